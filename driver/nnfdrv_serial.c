/* nnfdrv_serial.c - the "serial" backend: serial:/dev/ttyUSB1[@baud] (termios,
 * raw 8N1, no flow control). A port that goes away mid-transfer is an
 * NNFDRV_ERR_IO, never a hang: every wait is bounded by poll(). */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "nnfdrv.h"
#include "nnfdrv_transport.h"

typedef struct {
  nnfdrv_transport t;
  int fd;
} serial_transport;

static int serial_send(nnfdrv_transport *t, const uint8_t *buf, size_t len) {
  serial_transport *s = (serial_transport *)t;
  while (len > 0) {
    struct pollfd pfd = {s->fd, POLLOUT, 0};
    int pr = poll(&pfd, 1, 5000);
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0 || (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))) {
      snprintf(t->err, sizeof t->err, "serial port not writable (%s)",
               pr == 0 ? "timed out" : "device gone");
      return NNFDRV_ERR_IO;
    }
    ssize_t n = write(s->fd, buf, len);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      snprintf(t->err, sizeof t->err, "serial write: %s", strerror(errno));
      return NNFDRV_ERR_IO;
    }
    buf += n;
    len -= (size_t)n;
  }
  return NNFDRV_OK;
}

static int serial_recv(nnfdrv_transport *t, uint8_t *buf, size_t max, int timeout_ms) {
  serial_transport *s = (serial_transport *)t;
  for (;;) {
    struct pollfd pfd = {s->fd, POLLIN, 0};
    int pr = poll(&pfd, 1, timeout_ms);
    if (pr < 0 && errno == EINTR) continue;
    if (pr < 0) {
      snprintf(t->err, sizeof t->err, "serial poll: %s", strerror(errno));
      return NNFDRV_ERR_IO;
    }
    if (pr == 0) return 0;
    if (pfd.revents & POLLIN) {
      ssize_t n = read(s->fd, buf, max);
      if (n > 0) return (int)n;
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      snprintf(t->err, sizeof t->err, "serial device gone (%s)", n == 0 ? "end of file" : strerror(errno));
      return NNFDRV_ERR_IO;
    }
    snprintf(t->err, sizeof t->err, "serial device gone (hang-up)");
    return NNFDRV_ERR_IO;
  }
}

static void serial_close(nnfdrv_transport *t) {
  serial_transport *s = (serial_transport *)t;
  if (s->fd >= 0) close(s->fd);
  free(s);
}

static speed_t baud_constant(long baud) {
  switch (baud) {
  case 9600: return B9600;
  case 19200: return B19200;
  case 38400: return B38400;
  case 57600: return B57600;
  case 115200: return B115200;
  case 230400: return B230400;
  case 460800: return B460800;
  case 921600: return B921600;
  case 1000000: return B1000000;
  case 2000000: return B2000000;
  case 3000000: return B3000000;
  case 4000000: return B4000000;
  default: return 0;
  }
}

int nnfdrv_open_serial(const char *spec, nnfdrv_transport **out, char *msg, size_t msglen) {
  char path[256];
  long baud = 3000000;
  const char *at = strrchr(spec, '@');
  size_t plen = at ? (size_t)(at - spec) : strlen(spec);
  if (plen == 0 || plen >= sizeof path) {
    snprintf(msg, msglen, "serial: expected serial:/dev/PORT[@BAUD], got \"serial:%s\"", spec);
    return NNFDRV_ERR_URI;
  }
  memcpy(path, spec, plen);
  path[plen] = '\0';
  if (at) {
    char *end;
    baud = strtol(at + 1, &end, 10);
    if (*end || baud <= 0) {
      snprintf(msg, msglen, "serial: bad baud rate \"%s\"", at + 1);
      return NNFDRV_ERR_URI;
    }
  }
  speed_t sp = baud_constant(baud);
  if (!sp) {
    snprintf(msg, msglen, "serial: unsupported baud rate %ld", baud);
    return NNFDRV_ERR_URI;
  }
  int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    snprintf(msg, msglen, "serial: cannot open %s: %s", path, strerror(errno));
    return (errno == ENOENT || errno == ENODEV || errno == ENXIO) ? NNFDRV_ERR_NO_DEVICE : NNFDRV_ERR_IO;
  }
  struct termios tio;
  if (tcgetattr(fd, &tio) != 0) {
    snprintf(msg, msglen, "serial: %s is not a serial port: %s", path, strerror(errno));
    close(fd);
    return NNFDRV_ERR_NO_DEVICE;
  }
  cfmakeraw(&tio);
  tio.c_cflag |= CLOCAL | CREAD;
  tio.c_cflag &= ~(tcflag_t)(CSTOPB | CRTSCTS);
  tio.c_cc[VMIN] = 0;
  tio.c_cc[VTIME] = 0;
  cfsetispeed(&tio, sp);
  cfsetospeed(&tio, sp);
  if (tcsetattr(fd, TCSANOW, &tio) != 0) {
    snprintf(msg, msglen, "serial: cannot configure %s: %s", path, strerror(errno));
    close(fd);
    return NNFDRV_ERR_IO;
  }
  tcflush(fd, TCIOFLUSH);
  serial_transport *s = calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    snprintf(msg, msglen, "serial: out of memory");
    return NNFDRV_ERR_NOMEM;
  }
  s->fd = fd;
  s->t.send = serial_send;
  s->t.no_flow_control = 1;   /* a UART: see nnfdrv_transport.h */
  s->t.recv = serial_recv;
  s->t.close = serial_close;
  *out = &s->t;
  return NNFDRV_OK;
}
