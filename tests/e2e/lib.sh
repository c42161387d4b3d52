# lib.sh: helpers the end-to-end shell tests source (". lib.sh").
#   fail MESSAGE                 count a failure ($fails) and say it on stderr
#   expect CODE PATTERN -- CMD   CMD exits CODE and its output (stdout and
#                                stderr) matches the extended regex PATTERN
#   json_num KEY < JSON          the number of the first "KEY": in JSON on stdin
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

expect() {
  local code=$1 pat=$2
  shift 3
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" -ne "$code" ]; then fail "'$*' exited $rc, want $code: $out"; return; fi
  if ! grep -qiE -- "$pat" <<<"$out"; then fail "'$*' output lacks /$pat/: $out"; fi
}

json_num() { tr -d ' \t\n' | grep -o "\"$1\":[-0-9.e]*" | head -1 | cut -d: -f2; }
