/* nnfu_emu.c - emulated USB devices under umockdev (nnfu_emu.h). Every
 * device's state is touched only on umockdev's worker thread (its ioctl
 * callbacks and the timers added to its main context); the test's thread
 * reaches it through g_main_context_invoke or atomics. */
#define _GNU_SOURCE
#include "nnfu_emu.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <linux/usbdevice_fs.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <umockdev.h>

#include "nnfm_device.h"

static UMockdevTestbed *testbed;

enum { URB_CONTROL_T = USBDEVFS_URB_TYPE_CONTROL, URB_BULK_T = USBDEVFS_URB_TYPE_BULK };
enum { NATIVE_PACKET = 64, FTDI_PACKET = 512, FTDI_DATA = FTDI_PACKET - 2, FTDI_TX_FIFO = 4096 };

typedef struct urb {
  UMockdevIoctlData *d;      /* the struct usbdevfs_urb, resolved at submit */
  UMockdevIoctlData *buf;    /* its buffer (NULL for a zero-length one) */
  size_t done;               /* OUT bytes the device took so far */
} urb;

struct nnfu_emu {
  nnfu_emu_kind kind;
  int devnum;
  char *syspath, *devnode;
  const char *product;
  int fifo;                  /* our end of the device node FIFO */
  int ready;                 /* 1: the FIFO is empty (poll: writable) */
  GMainContext *ctx;         /* umockdev's worker context */
  GSource *ticker;           /* FTDI: 1 ms pacing and latency timer (a reference held) */
  GSource *release_src;      /* the timer of a held answer (a reference held) */
  atomic_int stopped;        /* nnfu_emu_free: the worker dropped its timers */
  nnfm_device *model;
  GQueue in_q, out_q, reap_q;
  /* answer bytes on their way to the host */
  uint8_t *tx;               /* the device's answer stream not yet sent */
  size_t tx_n, tx_cap;
  int64_t release_at;        /* hold tx until this monotonic time (us) */
  int64_t hold_until;        /* native: NAK OUT until this time (us) */
  atomic_int hold_next_ms;
  atomic_int delay_next_ms;
  atomic_long unplug_after;  /* -1: never */
  int zlp_due;
  int gone;
  /* FTDI */
  uint8_t txf[FTDI_TX_FIFO]; /* the chip's transmit FIFO, towards the UART */
  size_t txf_n;
  int latency_ms;
  long baud;
  int64_t last_in;           /* us: the last IN packet (latency timer start) */
  size_t line_credit;        /* answer bytes the UART has carried to the chip so far */
  nnfu_emu_stats st;
  GMutex lock;               /* guards st for the reader */
};

static int64_t now_us(void) { return g_get_monotonic_time(); }

static struct usbdevfs_urb *U(urb *u) { return (struct usbdevfs_urb *)u->d->data; }

/* ---- the FIFO that stands for the device node -------------------------- */

static void set_ready(nnfu_emu *e) {
  int want = !g_queue_is_empty(&e->reap_q);
  if (want == e->ready) return;
  uint8_t b = 0;
  if (want) {
    if (read(e->fifo, &b, 1) != 1) fprintf(stderr, "nnfu_emu: FIFO read failed: %s\n", strerror(errno));
  } else {
    if (write(e->fifo, &b, 1) != 1) fprintf(stderr, "nnfu_emu: FIFO write failed: %s\n", strerror(errno));
  }
  e->ready = want;
}

static void reapable(nnfu_emu *e, urb *u, int status, int actual) {
  U(u)->status = status;
  U(u)->actual_length = actual;
  g_queue_push_tail(&e->reap_q, u);
}

/* ---- the device behind the endpoints ------------------------------------ */

static void tx_take_from_model(nnfu_emu *e) {
  size_t pending = nnfm_device_tx_pending(e->model);
  if (!pending) return;
  if (e->tx_n + pending > e->tx_cap) {
    e->tx_cap = (e->tx_n + pending) * 2;
    e->tx = realloc(e->tx, e->tx_cap);
  }
  int d = atomic_exchange(&e->delay_next_ms, 0);
  if (d > 0) e->release_at = now_us() + (int64_t)d * 1000;
  e->tx_n += nnfm_device_tx(e->model, e->tx + e->tx_n, pending);
}

static size_t tx_avail(nnfu_emu *e) { return now_us() >= e->release_at ? e->tx_n : 0; }

static void tx_consume(nnfu_emu *e, uint8_t *out, size_t n) {
  if (n == 0) return;
  memcpy(out, e->tx, n);
  memmove(e->tx, e->tx + n, e->tx_n - n);
  e->tx_n -= n;
  g_mutex_lock(&e->lock);
  e->st.in_bytes += (long)n;
  g_mutex_unlock(&e->lock);
}

static void do_unplug(nnfu_emu *e);

static void count_status_only(nnfu_emu *e) {
  g_mutex_lock(&e->lock);
  e->st.status_only++;
  g_mutex_unlock(&e->lock);
}

static void check_unplug_after(nnfu_emu *e, size_t sent) {
  long left = atomic_load(&e->unplug_after);
  if (left < 0) return;
  left -= (long)sent;
  atomic_store(&e->unplug_after, left < 0 ? 0 : left);
  if (left <= 0) {
    atomic_store(&e->unplug_after, -1);
    do_unplug(e);
  }
}

static void pump_native(nnfu_emu *e) {
  /* OUT: each packet goes to the model unless the device holds its input */
  if (!g_queue_is_empty(&e->out_q)) {
    int h = atomic_exchange(&e->hold_next_ms, 0);
    if (h > 0) e->hold_until = now_us() + (int64_t)h * 1000;
  }
  while (now_us() >= e->hold_until && !g_queue_is_empty(&e->out_q)) {
    urb *u = g_queue_pop_head(&e->out_q);
    int len = U(u)->buffer_length;
    if (len > 0) nnfm_device_rx(e->model, u->buf->data, (size_t)len);
    g_mutex_lock(&e->lock);
    e->st.out_bytes += len;
    g_mutex_unlock(&e->lock);
    reapable(e, u, 0, len);
  }
  tx_take_from_model(e);
  /* IN: what the device has, up to the transfer; NAK when nothing */
  while (!e->gone && !g_queue_is_empty(&e->in_q)) {
    urb *u = g_queue_peek_head(&e->in_q);
    size_t have = tx_avail(e);
    int len = U(u)->buffer_length;
    if (have == 0) {
      if (!e->zlp_due) break;
      e->zlp_due = 0;   /* a full last packet with nothing after it: a ZLP ends the transfer */
      g_queue_pop_head(&e->in_q);
      g_mutex_lock(&e->lock);
      e->st.zlps++;
      g_mutex_unlock(&e->lock);
      reapable(e, u, 0, 0);
      continue;
    }
    size_t n = have < (size_t)len ? have : (size_t)len;
    g_queue_pop_head(&e->in_q);
    tx_consume(e, u->buf->data, n);
    /* After a full packet with nothing behind it the device sends a ZLP:
     * it ends this transfer, or (when the transfer is full) the next one. */
    if (n < (size_t)len && n % NATIVE_PACKET == 0) {
      g_mutex_lock(&e->lock);
      e->st.zlps++;
      g_mutex_unlock(&e->lock);
    }
    e->zlp_due = n == (size_t)len && n % NATIVE_PACKET == 0 && e->tx_n == 0;
    reapable(e, u, 0, (int)n);
    check_unplug_after(e, n);
  }
}

static void pump_ftdi(nnfu_emu *e, int tick) {
  /* OUT: packets into the chip's transmit FIFO while it has room (NAK otherwise) */
  while (!g_queue_is_empty(&e->out_q)) {
    urb *u = g_queue_peek_head(&e->out_q);
    int len = U(u)->buffer_length;
    size_t room = FTDI_TX_FIFO - e->txf_n, left = (size_t)len - u->done;
    size_t n = left < room ? left : room;
    if (n) memcpy(e->txf + e->txf_n, u->buf->data + u->done, n);
    e->txf_n += n;
    u->done += n;
    if (u->done < (size_t)len) break;
    g_queue_pop_head(&e->out_q);
    g_mutex_lock(&e->lock);
    e->st.out_bytes += len;
    g_mutex_unlock(&e->lock);
    reapable(e, u, 0, len);
  }
  if (tick) {
    /* the UART: one millisecond of bytes each way at 10 bits a byte */
    size_t budget = (size_t)(e->baud / 10000);
    if (budget < 1) budget = 1;
    size_t n = e->txf_n < budget ? e->txf_n : budget;
    if (n) {
      nnfm_device_rx(e->model, e->txf, n);
      memmove(e->txf, e->txf + n, e->txf_n - n);
      e->txf_n -= n;
    }
  }
  tx_take_from_model(e);
  /* The UART carries the answers to the chip's receive FIFO at the baud
   * rate: line_credit bytes have arrived (none accrue while idle). */
  if (tx_avail(e) == 0) e->line_credit = 0;
  else if (tick) e->line_credit += (size_t)(e->baud / 10000);
  size_t *line = &e->line_credit;
  /* IN: full packets when 510 bytes wait; otherwise at the latency timer */
  while (!e->gone && !g_queue_is_empty(&e->in_q)) {
    size_t have = tx_avail(e);
    if (have > *line) have = *line;
    int64_t t = now_us();
    int timer = t - e->last_in >= (int64_t)e->latency_ms * 1000;
    if (have < FTDI_DATA && !timer) break;
    urb *u = g_queue_pop_head(&e->in_q);
    int len = U(u)->buffer_length;
    size_t off = 0, sent = 0;
    uint8_t *b = u->buf->data;
    for (;;) {   /* packets of 2 status bytes + up to 510 data bytes; a short one ends the transfer */
      size_t n = have < FTDI_DATA ? have : FTDI_DATA;
      b[off] = 0x31;   /* modem status: CTS, DSR; line status: THRE, TEMT */
      b[off + 1] = 0x60;
      tx_consume(e, b + off + 2, n);
      *line -= n;
      have -= n;
      sent += n;
      off += 2 + n;
      if (n == 0) count_status_only(e);
      if (n < FTDI_DATA || off + FTDI_PACKET > (size_t)len || have < FTDI_DATA) break;
    }
    e->last_in = t;
    reapable(e, u, 0, (int)off);
    check_unplug_after(e, sent);
  }
}

static void pump(nnfu_emu *e, int tick) {
  if (e->gone) return;
  if (e->kind == NNFU_EMU_NATIVE) pump_native(e);
  else pump_ftdi(e, tick);
  set_ready(e);
}

static gboolean on_tick(gpointer p) {
  nnfu_emu *e = p;
  if (e->gone) return G_SOURCE_REMOVE;
  pump(e, 1);
  return G_SOURCE_CONTINUE;
}

static void schedule_wake(nnfu_emu *e);

static gboolean on_release(gpointer p) {
  nnfu_emu *e = p;
  g_source_unref(e->release_src);
  e->release_src = NULL;
  pump(e, 0);
  schedule_wake(e);
  return G_SOURCE_REMOVE;
}

/* A timer for the next held answer or held OUT to let go (one at a time). */
static void schedule_wake(nnfu_emu *e) {
  int64_t t = now_us(), at = 0;
  if (e->release_at > t) at = e->release_at;
  if (e->hold_until > t && (!at || e->hold_until < at)) at = e->hold_until;
  if (!at || e->gone || e->release_src) return;
  e->release_src = g_timeout_source_new((guint)((at - t) / 1000 + 1));
  g_source_set_callback(e->release_src, on_release, e, NULL);
  g_source_attach(e->release_src, e->ctx);
}

static void do_unplug(nnfu_emu *e) {
  if (e->gone) return;
  e->gone = 1;
  urb *u;
  while ((u = g_queue_pop_head(&e->in_q))) reapable(e, u, -ENODEV, 0);
  while ((u = g_queue_pop_head(&e->out_q))) reapable(e, u, -ENODEV, 0);
  set_ready(e);
}

/* ---- control requests ------------------------------------------------------ */

static int put_string(uint8_t *out, int max, const char *s) {
  int n = 2;
  for (const char *c = s; *c && n + 2 <= max && n + 2 <= 254; c++) {
    out[n++] = (uint8_t)*c;
    out[n++] = 0;
  }
  out[0] = (uint8_t)n;
  out[1] = 3;
  return n;
}

/* The data stage of a control request; returns its length, or -EPIPE (STALL). */
static int control(nnfu_emu *e, const uint8_t *setup, uint8_t *data, int max) {
  uint8_t type = setup[0], req = setup[1];
  unsigned value = setup[2] | setup[3] << 8, index = setup[4] | setup[5] << 8;
  g_mutex_lock(&e->lock);
  e->st.controls++;
  g_mutex_unlock(&e->lock);
  if (type == 0x80 && req == 6 && (value >> 8) == 3) {   /* GET_DESCRIPTOR string */
    uint8_t tmp[256];
    int n;
    switch (value & 0xFF) {
    case 0: tmp[0] = 4, tmp[1] = 3, tmp[2] = 0x09, tmp[3] = 0x04, n = 4; break;
    case 1: n = put_string(tmp, 256, e->kind == NNFU_EMU_NATIVE ? "nnfpga project" : "FTDI"); break;
    case 2: n = put_string(tmp, 256, e->kind == NNFU_EMU_NATIVE ? e->product : "Dual RS232-HS"); break;
    case 3: n = put_string(tmp, 256, e->kind == NNFU_EMU_NATIVE ? "EMU0001" : "FT0001"); break;
    default: return -EPIPE;
    }
    if (n > max) n = max;
    memcpy(data, tmp, (size_t)n);
    return n;
  }
  if (type == 0x00 && req == 9) return 0;                /* SET_CONFIGURATION */
  if (type == 0x02 && req == 1) return 0;                /* CLEAR_FEATURE(ENDPOINT_HALT) */
  if (e->kind == NNFU_EMU_FT2232H && type == 0x40) {     /* FTDI vendor requests, host to chip */
    g_mutex_lock(&e->lock);
    if (req == 0x03) {   /* SET_BAUDRATE: decode the divisor (FTDI AN232B-05; H chips: bit 17 = 120 MHz clock) */
      static const int eighths[8] = {0, 4, 2, 1, 3, 5, 6, 7};
      unsigned long enc = value | (unsigned long)(index & 0xFF00) << 8;
      double base = (enc & 0x20000) ? 12e6 : 3e6;
      unsigned n = enc & 0x3FFF, f = (unsigned)eighths[(enc >> 14) & 7];
      e->baud = (long)(n == 0 && f == 0 ? base : n == 1 && f == 0 ? base * 2 / 3 : base * 8 / (n * 8 + f));
      e->st.baud = e->baud;
      e->st.baud_requests++;
    }
    if (req == 0x09) {
      e->st.latency_ms = e->latency_ms = (int)(value & 0xFF);
      e->st.latency_sets++;
    }
    g_mutex_unlock(&e->lock);
    if (req == 0x00 && value == 1) e->tx_n = 0;          /* purge RX */
    if (req == 0x00 && value == 2) e->txf_n = 0;         /* purge TX */
    return 0;
  }
  if (e->kind == NNFU_EMU_FT2232H && type == 0xC0) {     /* chip to host */
    int n = req == 0x0A ? 1 : 2;                         /* latency timer; modem status; EEPROM word */
    if (n > max) n = max;
    memset(data, 0, (size_t)n);
    if (req == 0x0A) data[0] = (uint8_t)e->latency_ms;
    return n;
  }
  return -EPIPE;
}

/* ---- the ioctl handler --------------------------------------------------------- */

static UMockdevIoctlData *resolve(UMockdevIoctlData *d, size_t off, size_t len) {
  GError *err = NULL;
  UMockdevIoctlData *r = umockdev_ioctl_data_resolve(d, off, len, &err);
  if (err) {
    fprintf(stderr, "nnfu_emu: resolve: %s\n", err->message);
    g_error_free(err);
  }
  return r;
}

static void count(nnfu_emu *e, long *what) {
  g_mutex_lock(&e->lock);
  (*what)++;
  g_mutex_unlock(&e->lock);
}

static urb *find_unlink(GQueue *q, unsigned long addr) {
  for (GList *l = q->head; l; l = l->next) {
    urb *u = l->data;
    if (u->d->client_addr == addr) {
      g_queue_delete_link(q, l);
      return u;
    }
  }
  return NULL;
}

static gboolean on_ioctl(UMockdevIoctlBase *base, UMockdevIoctlClient *c, gpointer p) {
  (void)base;
  nnfu_emu *e = p;
  if (!e->ctx) {
    e->ctx = g_main_context_ref_thread_default();
    if (e->kind == NNFU_EMU_FT2232H) {   /* the UART's pacing and the latency timer: 1 ms ticks */
      e->ticker = g_timeout_source_new(1);
      g_source_set_callback(e->ticker, on_tick, e, NULL);
      g_source_attach(e->ticker, e->ctx);
    }
  }
  unsigned long req = umockdev_ioctl_client_get_request(c);
  UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(c);
  switch (req) {
  case USBDEVFS_GET_CAPABILITIES: {
    UMockdevIoctlData *d = resolve(arg, 0, sizeof(uint32_t));
    *(uint32_t *)d->data = USBDEVFS_CAP_ZERO_PACKET | USBDEVFS_CAP_NO_PACKET_SIZE_LIM |
                           USBDEVFS_CAP_REAP_AFTER_DISCONNECT;
    g_object_unref(d);
    umockdev_ioctl_client_complete(c, 0, 0);
    return TRUE;
  }
  case USBDEVFS_CLAIMINTERFACE: count(e, &e->st.claims); umockdev_ioctl_client_complete(c, e->gone ? -1 : 0, e->gone ? ENODEV : 0); return TRUE;
  case USBDEVFS_RELEASEINTERFACE: count(e, &e->st.releases); umockdev_ioctl_client_complete(c, 0, 0); return TRUE;
  case USBDEVFS_DISCONNECT_CLAIM: count(e, &e->st.detaches); count(e, &e->st.claims); umockdev_ioctl_client_complete(c, 0, 0); return TRUE;
  case USBDEVFS_CLEAR_HALT: count(e, &e->st.clear_halts); umockdev_ioctl_client_complete(c, 0, 0); return TRUE;
  case USBDEVFS_IOCTL: count(e, &e->st.detaches); umockdev_ioctl_client_complete(c, -1, ENODATA); return TRUE;   /* no driver bound */
  case USBDEVFS_GETDRIVER: umockdev_ioctl_client_complete(c, -1, ENODATA); return TRUE;
  case USBDEVFS_SETINTERFACE:
  case USBDEVFS_SETCONFIGURATION:
  case USBDEVFS_RESETEP:
  case USBDEVFS_RESET: umockdev_ioctl_client_complete(c, 0, 0); return TRUE;
  case USBDEVFS_SUBMITURB: {
    if (e->gone) {
      umockdev_ioctl_client_complete(c, -1, ENODEV);
      return TRUE;
    }
    urb *u = g_new0(urb, 1);
    u->d = resolve(arg, 0, sizeof(struct usbdevfs_urb));
    struct usbdevfs_urb *s = U(u);
    if (s->buffer_length > 0)
      u->buf = resolve(u->d, offsetof(struct usbdevfs_urb, buffer), (size_t)s->buffer_length);
    count(e, &e->st.submits);
    if (s->type == URB_CONTROL_T) {
      int n = control(e, u->buf->data, u->buf->data + 8, s->buffer_length - 8);
      reapable(e, u, n < 0 ? n : 0, n < 0 ? 0 : n);
    } else if (s->endpoint & 0x80) {
      g_queue_push_tail(&e->in_q, u);
    } else {
      g_queue_push_tail(&e->out_q, u);
    }
    pump(e, 0);
    set_ready(e);
    schedule_wake(e);   /* wake up when a held answer or OUT is due */
    umockdev_ioctl_client_complete(c, 0, 0);
    return TRUE;
  }
  case USBDEVFS_DISCARDURB: {
    unsigned long addr = *(unsigned long *)arg->data;
    urb *u = find_unlink(&e->in_q, addr);
    if (!u) u = find_unlink(&e->out_q, addr);
    count(e, &e->st.discards);
    if (!u) {
      umockdev_ioctl_client_complete(c, -1, EINVAL);
      return TRUE;
    }
    reapable(e, u, -ENOENT, e->kind == NNFU_EMU_FT2232H ? (int)u->done : 0);
    set_ready(e);
    umockdev_ioctl_client_complete(c, 0, 0);
    return TRUE;
  }
  case USBDEVFS_REAPURB:
  case USBDEVFS_REAPURBNDELAY: {
    urb *u = g_queue_pop_head(&e->reap_q);
    if (!u) {
      umockdev_ioctl_client_complete(c, -1, e->gone ? ENODEV : EAGAIN);
      return TRUE;
    }
    count(e, &e->st.reaps);
    UMockdevIoctlData *d = resolve(arg, 0, sizeof(void *));
    umockdev_ioctl_data_set_ptr(d, 0, u->d);
    g_object_unref(d);
    set_ready(e);
    umockdev_ioctl_client_complete(c, 0, 0);
    /* the reply flushes u->d and its buffer to the client; then they can go */
    g_object_unref(u->d);
    if (u->buf) g_object_unref(u->buf);
    g_free(u);
    return TRUE;
  }
  default:
    fprintf(stderr, "nnfu_emu: unhandled usbdevfs ioctl 0x%lx\n", req);
    umockdev_ioctl_client_complete(c, -1, ENOTTY);
    return TRUE;
  }
}

/* ---- plugging ---------------------------------------------------------------- */

static const char native_desc[] =
    "12010002000000400912010000010102030109022000010100803209040000"
    "02FF0000000705810240000007050102400000";
static const char ft2232h_desc[] =
    "120100020000004003041060000701020301"     /* device: 0403:6010, bcdDevice 7.00 (FT2232H) */
    "090237000201008032"                       /* configuration: 55 bytes, 2 interfaces */
    "0904000002FFFFFF02" "07058102000200" "07050202000200"   /* A: 0x81 IN, 0x02 OUT, 512 */
    "0904010002FFFFFF02" "07058302000200" "07050402000200";  /* B: 0x83 IN, 0x04 OUT, 512 */

static char *hexclean(const char *h) {
  char *o = g_malloc(strlen(h) + 1), *q = o;
  for (; *h; h++)
    if (*h != ' ') *q++ = *h;
  *q = 0;
  return o;
}

nnfu_emu *nnfu_emu_plug(nnfu_emu_kind kind, int devnum, const char *product) {
  if (!testbed) testbed = umockdev_testbed_new();
  nnfu_emu *e = g_new0(nnfu_emu, 1);
  e->kind = kind;
  e->devnum = devnum;
  e->product = product ? product : "nnfpga";
  e->latency_ms = 16;
  e->baud = 3000000;
  atomic_store(&e->unplug_after, -1);
  g_mutex_init(&e->lock);
  nnfm_device_config cfg = nnfm_device_config_default();
  e->model = nnfm_device_create(&cfg);
  int native = kind == NNFU_EMU_NATIVE;
  char *desc = hexclean(native ? native_desc : ft2232h_desc);
  char *text = g_strdup_printf(
      "P: /devices/pci0000:00/0000:00:14.0/usb1/1-%d\n"
      "N: bus/usb/001/%03d\n"
      "E: DEVNAME=/dev/bus/usb/001/%03d\n"
      "E: DEVTYPE=usb_device\n"
      "E: DRIVER=usb\n"
      "E: PRODUCT=%s\n"
      "E: BUSNUM=001\n"
      "E: DEVNUM=%03d\n"
      "E: MAJOR=189\n"
      "E: MINOR=%d\n"
      "E: SUBSYSTEM=usb\n"
      "A: busnum=1\n"
      "A: devnum=%d\n"
      "A: devpath=%d\n"
      "A: speed=%s\n"
      "A: bConfigurationValue=1\n"
      "A: bNumConfigurations=1\n"
      "A: bNumInterfaces=%s\n"
      "A: idVendor=%s\n"
      "A: idProduct=%s\n"
      "A: bMaxPacketSize0=64\n"
      "A: dev=189:%d\n"
      "H: descriptors=%s\n",
      devnum, devnum, devnum, native ? "1209/1/100" : "403/6010/700", devnum, devnum, devnum, devnum,
      native ? "12" : "480", native ? " 1" : " 2", native ? "1209" : "0403", native ? "0001" : "6010", devnum, desc);
  GError *err = NULL;
  if (!umockdev_testbed_add_from_string(testbed, text, &err)) {
    fprintf(stderr, "nnfu_emu: cannot add the device: %s\n", err ? err->message : "?");
    exit(1);
  }
  g_free(text);
  g_free(desc);
  e->syspath = g_strdup_printf("/sys/devices/pci0000:00/0000:00:14.0/usb1/1-%d", devnum);
  e->devnode = g_strdup_printf("/dev/bus/usb/001/%03d", devnum);
  /* the node: a FIFO of one page, holding one byte while nothing is reapable */
  char *root = umockdev_testbed_get_root_dir(testbed);
  char *path = g_strdup_printf("%s%s", root, e->devnode);
  unlink(path);
  if (mkfifo(path, 0666) != 0 || (e->fifo = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0) {
    fprintf(stderr, "nnfu_emu: cannot make the FIFO %s: %s\n", path, strerror(errno));
    exit(1);
  }
  fcntl(e->fifo, F_SETPIPE_SZ, 4096);
  e->ready = 1;
  set_ready(e);   /* nothing reapable: fill it */
  g_free(path);
  g_free(root);
  UMockdevIoctlBase *h = g_object_new(UMOCKDEV_TYPE_IOCTL_BASE, NULL);
  g_signal_connect(h, "handle-ioctl", G_CALLBACK(on_ioctl), e);
  if (!umockdev_testbed_attach_ioctl(testbed, e->devnode, h, &err)) {
    fprintf(stderr, "nnfu_emu: attach_ioctl: %s\n", err ? err->message : "?");
    exit(1);
  }
  g_object_unref(h);   /* the testbed holds it */
  e->last_in = now_us();
  return e;
}

static gboolean unplug_cb(gpointer p) {
  do_unplug(p);
  return G_SOURCE_REMOVE;
}

void nnfu_emu_unplug(nnfu_emu *e) {
  if (e->ctx) g_main_context_invoke(e->ctx, unplug_cb, e);
  else e->gone = 1;
  g_usleep(1000);
  umockdev_testbed_remove_device(testbed, e->syspath);
}

void nnfu_emu_unplug_after_in(nnfu_emu *e, long bytes) { atomic_store(&e->unplug_after, bytes); }
void nnfu_emu_delay_next_answer(nnfu_emu *e, int ms) { atomic_store(&e->delay_next_ms, ms); }
void nnfu_emu_hold_next_out(nnfu_emu *e, int ms) { atomic_store(&e->hold_next_ms, ms); }

void nnfu_emu_stale(nnfu_emu *e, const uint8_t *bytes, size_t n) {
  e->tx = realloc(e->tx, e->tx_n + n);
  memcpy(e->tx + e->tx_n, bytes, n);
  e->tx_n += n;
  e->tx_cap = e->tx_n;
}

nnfu_emu_stats nnfu_emu_get_stats(nnfu_emu *e) {
  g_mutex_lock(&e->lock);
  nnfu_emu_stats s = e->st;
  g_mutex_unlock(&e->lock);
  return s;
}

static gboolean stop_timers(gpointer p) {
  nnfu_emu *e = p;
  if (e->ticker) g_source_destroy(e->ticker);
  if (e->release_src) g_source_destroy(e->release_src);
  atomic_store(&e->stopped, 1);
  return G_SOURCE_REMOVE;
}

void nnfu_emu_free(nnfu_emu *e) {
  if (e->ctx) {   /* the worker's timers must be gone before e is */
    g_main_context_invoke(e->ctx, stop_timers, e);
    for (int i = 0; i < 2000 && !atomic_load(&e->stopped); i++) g_usleep(1000);
  }
  if (e->ticker) g_source_unref(e->ticker);
  if (e->release_src) g_source_unref(e->release_src);
  umockdev_testbed_detach_ioctl(testbed, e->devnode, NULL);
  urb *u;
  while ((u = g_queue_pop_head(&e->reap_q))) {
    g_object_unref(u->d);
    if (u->buf) g_object_unref(u->buf);
    g_free(u);
  }
  close(e->fifo);
  nnfm_device_destroy(e->model);
  free(e->tx);
  if (e->ctx) g_main_context_unref(e->ctx);
  g_free(e->syspath);
  g_free(e->devnode);
  g_mutex_clear(&e->lock);
  g_free(e);
}
