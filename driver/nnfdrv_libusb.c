/* nnfdrv_libusb.c - the asynchronous libusb-1.0 byte pipe (nnfdrv_usbio.h)
 * and the native USB device (usb:1209:0001, docs/usb-host.md): one vendor
 * interface, bulk OUT 0x01 and bulk IN 0x81, carrying the byte stream of
 * docs/protocol.md. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nnfdrv.h"
#include "nnfdrv_transport.h"
#include "nnfdrv_usb_internal.h"

#ifdef NNFDRV_HAVE_LIBUSB
#include "nnfdrv_usbio.h"

typedef struct out_node {
  struct out_node *prev, *next;
  struct libusb_transfer *t;
  nnfdrv_usbio *io;
} out_node;

struct nnfdrv_usbio {
  nnfdrv_usbio_cfg cfg;
  struct libusb_transfer *in[NNFDRV_USBIO_IN_XFERS];
  int in_posted[NNFDRV_USBIO_IN_XFERS];
  out_node *out_head, *out_tail;      /* in flight, oldest first */
  size_t out_inflight;                /* bytes */
  /* received bytes, in order: q[rd..wr) */
  uint8_t *q;
  size_t rd, wr, cap;
  int wake;                           /* set by callbacks: data, an OUT done, death */
  int dead;
  int stopping;
  int idled;                          /* cfg.idle was called with 1 */
  double last_data;                   /* ms: when bytes last arrived, or recv() began waiting */
  char why[200];
  nnfdrv_usbio_stats st;
};

static void die(nnfdrv_usbio *io, const char *fmt, const char *detail) {
  if (!io->dead) {
    io->dead = 1;
    snprintf(io->why, sizeof io->why, fmt, io->cfg.name, detail);
  }
  io->wake = 1;
}

static void die_status(nnfdrv_usbio *io, enum libusb_transfer_status s, const char *dir) {
  switch (s) {
  case LIBUSB_TRANSFER_NO_DEVICE: die(io, "%s: device unplugged (%s transfer)", dir); break;
  case LIBUSB_TRANSFER_STALL: die(io, "%s: endpoint stalled (%s transfer)", dir); break;
  case LIBUSB_TRANSFER_OVERFLOW: die(io, "%s: the device sent more than asked (%s transfer overflow)", dir); break;
  case LIBUSB_TRANSFER_TIMED_OUT: die(io, "%s: %s transfer timed out", dir); break;
  default: die(io, "%s: %s transfer failed (device unplugged or link error)", dir); break;
  }
}

static void die_submit(nnfdrv_usbio *io, int rc, const char *dir) {
  if (rc == LIBUSB_ERROR_NO_DEVICE) die(io, "%s: device unplugged (submitting %s transfer)", dir);
  else {
    char d[96];
    snprintf(d, sizeof d, "%s transfer: %s", dir, libusb_error_name(rc));
    die(io, "%s: cannot submit %s", d);
  }
}

static int q_put(nnfdrv_usbio *io, const uint8_t *p, size_t n) {
  if (io->wr + n > io->cap) {
    if (io->rd) {   /* compact */
      memmove(io->q, io->q + io->rd, io->wr - io->rd);
      io->wr -= io->rd;
      io->rd = 0;
    }
    if (io->wr + n > io->cap) {
      size_t c = io->cap ? io->cap : 65536;
      while (c < io->wr + n) c *= 2;
      uint8_t *q = realloc(io->q, c);
      if (!q) return -1;
      io->q = q;
      io->cap = c;
    }
  }
  memcpy(io->q + io->wr, p, n);
  io->wr += n;
  return 0;
}

static void LIBUSB_CALL in_cb(struct libusb_transfer *t) {
  nnfdrv_usbio *io = t->user_data;
  int i = 0;
  while (i < NNFDRV_USBIO_IN_XFERS && io->in[i] != t) i++;
  io->in_posted[i] = 0;
  if (t->status == LIBUSB_TRANSFER_CANCELLED) return;
  if (t->status != LIBUSB_TRANSFER_COMPLETED) {
    die_status(io, t->status, "IN");
    return;
  }
  io->st.in_completions++;
  if (t->actual_length == 0) io->st.zlp++;
  size_t before = io->wr - io->rd;
  int oom = 0;
  if (io->cfg.strip) {   /* FTDI: 2 modem-status bytes at the start of every packet */
    for (int off = 0; off < t->actual_length; off += io->cfg.packet) {
      int n = t->actual_length - off < io->cfg.packet ? t->actual_length - off : io->cfg.packet;
      if (n > io->cfg.strip) oom |= q_put(io, t->buffer + off + io->cfg.strip, (size_t)(n - io->cfg.strip));
    }
  } else if (t->actual_length > 0) {
    oom = q_put(io, t->buffer, (size_t)t->actual_length);
  }
  if (oom) {
    die(io, "%s: out of memory for %s bytes", "received");
    return;
  }
  size_t got = io->wr - io->rd - before;
  io->st.in_bytes += got;
  if (got) io->wake = 1;
  if (io->stopping || io->dead) return;
  int rc = libusb_submit_transfer(t);
  if (rc) die_submit(io, rc, "IN");
  else io->in_posted[i] = 1;
}

static void out_unlink(nnfdrv_usbio *io, out_node *n) {
  if (n->prev) n->prev->next = n->next;
  else io->out_head = n->next;
  if (n->next) n->next->prev = n->prev;
  else io->out_tail = n->prev;
}

static void LIBUSB_CALL out_cb(struct libusb_transfer *t) {
  out_node *n = t->user_data;
  nnfdrv_usbio *io = n->io;
  out_unlink(io, n);
  io->out_inflight -= (size_t)t->length;
  io->wake = 1;
  if (t->status == LIBUSB_TRANSFER_COMPLETED && t->actual_length != t->length)
    die(io, "%s: %s", "OUT transfer cut short");
  else if (t->status != LIBUSB_TRANSFER_COMPLETED && t->status != LIBUSB_TRANSFER_CANCELLED)
    die_status(io, t->status, "OUT");
  libusb_free_transfer(t);   /* the buffer is freed with it (LIBUSB_TRANSFER_FREE_BUFFER) */
  free(n);
}

/* One pass of libusb's event loop, waiting at most ms (0: no wait). */
static int events(nnfdrv_usbio *io, int ms) {
  struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
  io->st.event_calls++;
  int rc = libusb_handle_events_timeout_completed(io->cfg.ctx, &tv, &io->wake);
  if (rc && rc != LIBUSB_ERROR_INTERRUPTED && rc != LIBUSB_ERROR_TIMEOUT) {
    char d[64];
    snprintf(d, sizeof d, "%s", libusb_error_name(rc));
    die(io, "%s: libusb event loop failed: %s", d);
    return -1;
  }
  return 0;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

nnfdrv_usbio *nnfdrv_usbio_start(const nnfdrv_usbio_cfg *cfg, char *msg, size_t msglen) {
  nnfdrv_usbio *io = calloc(1, sizeof *io);
  if (!io) {
    snprintf(msg, msglen, "%s: out of memory", cfg->name);
    return NULL;
  }
  io->cfg = *cfg;
  io->last_data = now_ms();
  for (int i = 0; i < NNFDRV_USBIO_IN_XFERS; i++) {
    uint8_t *b = malloc((size_t)cfg->in_size);
    io->in[i] = libusb_alloc_transfer(0);
    if (!b || !io->in[i]) {
      free(b);
      snprintf(msg, msglen, "%s: out of memory", cfg->name);
      nnfdrv_usbio_stop(io);
      return NULL;
    }
    libusb_fill_bulk_transfer(io->in[i], cfg->h, cfg->ep_in, b, cfg->in_size, in_cb, io, 0);
    io->in[i]->flags = LIBUSB_TRANSFER_FREE_BUFFER;
  }
  for (int i = 0; i < NNFDRV_USBIO_IN_XFERS; i++) {
    int rc = libusb_submit_transfer(io->in[i]);
    if (rc) {
      snprintf(msg, msglen, "%s: cannot post IN transfers: %s", cfg->name, libusb_error_name(rc));
      nnfdrv_usbio_stop(io);
      return NULL;
    }
    io->in_posted[i] = 1;
  }
  return io;
}

long nnfdrv_usbio_drain(nnfdrv_usbio *io, int quiet_ms, int max_ms) {
  double end = now_ms() + max_ms, quiet_end = now_ms() + quiet_ms;
  long dropped = 0;
  for (;;) {
    double t = now_ms();
    if (io->dead) return -1;
    if (io->wr > io->rd) {
      dropped += (long)(io->wr - io->rd);
      io->rd = io->wr = 0;
      quiet_end = t + quiet_ms;
    }
    if (t >= quiet_end || t >= end) return dropped;
    double until = quiet_end < end ? quiet_end : end;
    io->wake = 0;
    if (events(io, (int)(until - t) + 1)) return -1;
  }
}

int nnfdrv_usbio_send(nnfdrv_usbio *io, const uint8_t *buf, size_t len, char *err, size_t errlen) {
  while (len > 0) {
    if (io->dead) {
      snprintf(err, errlen, "%s", io->why);
      return NNFDRV_ERR_IO;
    }
    if (io->out_inflight >= NNFDRV_USBIO_OUT_MAX) {
      /* A megabyte queued and not taken: wait for the device, but not for ever. */
      double end = now_ms() + 10000;
      while (io->out_inflight >= NNFDRV_USBIO_OUT_MAX && !io->dead && now_ms() < end) {
        io->wake = 0;
        events(io, 100);
      }
      if (io->out_inflight >= NNFDRV_USBIO_OUT_MAX && !io->dead) {
        snprintf(err, errlen, "%s: the device took nothing for 10 s with %zu bytes queued", io->cfg.name,
                 io->out_inflight);
        return NNFDRV_ERR_IO;
      }
      continue;
    }
    size_t n = len < (size_t)io->cfg.out_chunk ? len : (size_t)io->cfg.out_chunk;
    out_node *node = calloc(1, sizeof *node);
    uint8_t *b = malloc(n);
    struct libusb_transfer *t = libusb_alloc_transfer(0);
    if (!node || !b || !t) {
      free(node);
      free(b);
      if (t) libusb_free_transfer(t);
      snprintf(err, errlen, "%s: out of memory", io->cfg.name);
      return NNFDRV_ERR_IO;
    }
    memcpy(b, buf, n);
    node->t = t;
    node->io = io;
    libusb_fill_bulk_transfer(t, io->cfg.h, io->cfg.ep_out, b, (int)n, out_cb, node, 0);
    t->flags = LIBUSB_TRANSFER_FREE_BUFFER;
    int rc = libusb_submit_transfer(t);
    if (rc) {
      libusb_free_transfer(t);
      free(node);
      die_submit(io, rc, "OUT");
      snprintf(err, errlen, "%s", io->why);
      return NNFDRV_ERR_IO;
    }
    node->prev = io->out_tail;
    if (io->out_tail) io->out_tail->next = node;
    else io->out_head = node;
    io->out_tail = node;
    io->out_inflight += n;
    io->st.out_submits++;
    io->st.out_bytes += n;
    buf += n;
    len -= n;
  }
  /* Let libusb see completions already due (never waits). */
  io->wake = 0;
  events(io, 0);
  if (io->dead) {
    snprintf(err, errlen, "%s", io->why);
    return NNFDRV_ERR_IO;
  }
  return NNFDRV_OK;
}

int nnfdrv_usbio_recv(nnfdrv_usbio *io, uint8_t *buf, size_t max, int timeout_ms, char *err, size_t errlen) {
  double start = now_ms(), end = start + (timeout_ms > 0 ? timeout_ms : 0);
  /* Idle is silence while the host waits: not the time it spent elsewhere
   * between commands (its next answer must not wait for a long latency). */
  if (io->last_data < start) io->last_data = start;
  for (;;) {
    if (io->wr > io->rd) {
      io->last_data = now_ms();
      if (io->idled) {
        io->idled = 0;
        io->cfg.idle(io->cfg.idle_arg, 0);
      }
      size_t n = io->wr - io->rd < max ? io->wr - io->rd : max;
      memcpy(buf, io->q + io->rd, n);
      io->rd += n;
      if (io->rd == io->wr) io->rd = io->wr = 0;
      return (int)n;
    }
    if (io->dead) {
      snprintf(err, errlen, "%s", io->why);
      return NNFDRV_ERR_IO;
    }
    double t = now_ms(), left = end - t;
    if (left <= 0) return 0;
    if (io->cfg.idle && !io->idled) {
      double idle_at = io->last_data + io->cfg.idle_ms;
      if (t >= idle_at) {
        io->idled = 1;
        io->cfg.idle(io->cfg.idle_arg, 1);
        continue;
      }
      if (idle_at - t < left) left = idle_at - t;
    }
    io->wake = 0;
    events(io, (int)left + 1);
  }
}

int nnfdrv_usbio_stop(nnfdrv_usbio *io) {
  if (!io) return 0;
  io->stopping = 1;
  for (int i = 0; i < NNFDRV_USBIO_IN_XFERS; i++)
    if (io->in_posted[i]) libusb_cancel_transfer(io->in[i]);
  for (out_node *n = io->out_head; n; n = n->next) libusb_cancel_transfer(n->t);
  /* Reap: a cancelled transfer comes back through its callback (CANCELLED,
   * or NO_DEVICE from a device that went away). Bounded, in case the
   * platform never returns one. */
  double end = now_ms() + 3000;
  for (;;) {
    int busy = io->out_head != NULL;
    for (int i = 0; i < NNFDRV_USBIO_IN_XFERS; i++) busy |= io->in_posted[i];
    if (!busy) break;
    if (now_ms() >= end) return -1;   /* leak rather than free what libusb still holds */
    struct timeval tv = {0, 100000};
    libusb_handle_events_timeout(io->cfg.ctx, &tv);
  }
  for (int i = 0; i < NNFDRV_USBIO_IN_XFERS; i++)
    if (io->in[i]) libusb_free_transfer(io->in[i]);
  free(io->q);
  free(io);
  return 0;
}

nnfdrv_usbio_stats nnfdrv_usbio_get_stats(const nnfdrv_usbio *io) { return io->st; }

/* ---- the native device ------------------------------------------------------ */

typedef struct {
  nnfdrv_transport t;
  libusb_context *ctx;
  libusb_device_handle *h;
  nnfdrv_usbio *io;
  int claimed;
} native_transport;

static int native_send(nnfdrv_transport *t, const uint8_t *buf, size_t len) {
  native_transport *u = (native_transport *)t;
  return nnfdrv_usbio_send(u->io, buf, len, t->err, sizeof t->err);
}

static int native_recv(nnfdrv_transport *t, uint8_t *buf, size_t max, int timeout_ms) {
  native_transport *u = (native_transport *)t;
  return nnfdrv_usbio_recv(u->io, buf, max, timeout_ms, t->err, sizeof t->err);
}

static void native_close(nnfdrv_transport *t) {
  native_transport *u = (native_transport *)t;
  int leaked = u->io && nnfdrv_usbio_stop(u->io) != 0;
  if (!leaked) {
    if (u->h) {
      if (u->claimed) libusb_release_interface(u->h, 0);
      libusb_close(u->h);
    }
    if (u->ctx) libusb_exit(u->ctx);
  }
  free(u);
}

/* The string descriptor `index` of h as ASCII into out ("" when absent). */
static int get_string(libusb_device_handle *h, uint8_t index, char *out, size_t outlen) {
  out[0] = '\0';
  if (!index) return 0;
  int n = libusb_get_string_descriptor_ascii(h, index, (unsigned char *)out, (int)outlen);
  if (n < 0) return n;
  out[n < (int)outlen ? n : (int)outlen - 1] = '\0';
  return 0;
}

static int find_bulk_endpoints(libusb_device *dev, unsigned char *ep_in, unsigned char *ep_out, int *packet) {
  struct libusb_config_descriptor *cfg;
  if (libusb_get_active_config_descriptor(dev, &cfg) != 0) return -1;
  *ep_in = *ep_out = 0;
  if (cfg->bNumInterfaces > 0 && cfg->interface[0].num_altsetting > 0) {
    const struct libusb_interface_descriptor *id = &cfg->interface[0].altsetting[0];
    for (int i = 0; i < id->bNumEndpoints; i++) {
      const struct libusb_endpoint_descriptor *e = &id->endpoint[i];
      if ((e->bmAttributes & 3) != LIBUSB_TRANSFER_TYPE_BULK) continue;
      if ((e->bEndpointAddress & 0x80) && !*ep_in) {
        *ep_in = e->bEndpointAddress;
        *packet = e->wMaxPacketSize & 0x7FF;
      } else if (!(e->bEndpointAddress & 0x80) && !*ep_out) {
        *ep_out = e->bEndpointAddress;
      }
    }
  }
  libusb_free_config_descriptor(cfg);
  return *ep_in && *ep_out && *packet > 0 ? 0 : -1;
}

int nnfdrv_open_libusb(unsigned vid, unsigned pid, const char *serial, const char *product,
                       nnfdrv_transport **out, char *msg, size_t msglen) {
  native_transport *u = calloc(1, sizeof *u);
  if (!u) {
    snprintf(msg, msglen, "usb: out of memory");
    return NNFDRV_ERR_NOMEM;
  }
  int rc = libusb_init(&u->ctx);
  if (rc) {   /* e.g. no usbfs at all (a container): nothing to find */
    snprintf(msg, msglen, "usb: no USB on this machine (libusb_init: %s)", libusb_error_name(rc));
    free(u);
    return NNFDRV_ERR_NO_DEVICE;
  }
  libusb_device **list;
  ssize_t n = libusb_get_device_list(u->ctx, &list);
  char seen[256] = "";   /* why candidates were refused */
  int status = NNFDRV_ERR_NO_DEVICE;
  for (ssize_t i = 0; n > 0 && i < n && !u->h; i++) {
    struct libusb_device_descriptor dd;
    if (libusb_get_device_descriptor(list[i], &dd) || dd.idVendor != vid || dd.idProduct != pid) continue;
    libusb_device_handle *h;
    if ((rc = libusb_open(list[i], &h)) != 0) {
      snprintf(seen, sizeof seen, "; %04x:%04x on bus %u device %u cannot be opened: %s%s", vid, pid,
               libusb_get_bus_number(list[i]), libusb_get_device_address(list[i]), libusb_error_name(rc),
               rc == LIBUSB_ERROR_ACCESS ? " (install the udev rule: docs/usb-host.md)" : "");
      if (rc == LIBUSB_ERROR_ACCESS) status = NNFDRV_ERR_IO;
      continue;
    }
    char s[128];
    if (product && (get_string(h, dd.iProduct, s, sizeof s) || strcmp(s, product))) {
      snprintf(seen, sizeof seen, "; %04x:%04x on bus %u device %u is \"%s\", not \"%s\"", vid, pid,
               libusb_get_bus_number(list[i]), libusb_get_device_address(list[i]), s, product);
      libusb_close(h);
      continue;
    }
    if (serial && *serial && (get_string(h, dd.iSerialNumber, s, sizeof s) || strcmp(s, serial))) {
      snprintf(seen, sizeof seen, "; %04x:%04x on bus %u device %u has serial \"%s\"", vid, pid,
               libusb_get_bus_number(list[i]), libusb_get_device_address(list[i]), s);
      libusb_close(h);
      continue;
    }
    u->h = h;
  }
  libusb_device *dev = u->h ? libusb_get_device(u->h) : NULL;
  if (n >= 0) libusb_free_device_list(list, 1);   /* allocated even when empty */
  if (!u->h) {
    snprintf(msg, msglen, "usb: no device %04x:%04x%s%s%s%s%s", vid, pid, product ? " \"" : "",
             product ? product : "", product ? "\"" : "", serial && *serial ? " serial " : "",
             serial && *serial ? serial : "");
    if (*seen) snprintf(msg + strlen(msg), msglen - strlen(msg), "%s", seen);
    native_close(&u->t);
    return status;
  }
  unsigned char ep_in, ep_out;
  int packet = 0;
  libusb_set_auto_detach_kernel_driver(u->h, 1);   /* LIBUSB_ERROR_NOT_SUPPORTED off Linux: fine */
  if ((rc = libusb_claim_interface(u->h, 0)) != 0) {
    snprintf(msg, msglen, "usb: cannot claim interface 0 of %04x:%04x: %s%s", vid, pid, libusb_error_name(rc),
             rc == LIBUSB_ERROR_BUSY ? " (another program has it)" : "");
    native_close(&u->t);
    return rc == LIBUSB_ERROR_NO_DEVICE ? NNFDRV_ERR_NO_DEVICE : NNFDRV_ERR_IO;
  }
  u->claimed = 1;
  if (find_bulk_endpoints(dev, &ep_in, &ep_out, &packet)) {
    snprintf(msg, msglen, "usb: %04x:%04x has no bulk IN and OUT endpoints on interface 0", vid, pid);
    native_close(&u->t);
    return NNFDRV_ERR_NO_DEVICE;
  }
  libusb_clear_halt(u->h, ep_out);
  libusb_clear_halt(u->h, ep_in);
  nnfdrv_usbio_cfg cfg = {u->ctx, u->h, ep_in, ep_out, packet, 0, NNFDRV_USB_IN_SIZE, NNFDRV_USB_OUT_CHUNK, "usb",
                          NULL, NULL, 0};
  if (!(u->io = nnfdrv_usbio_start(&cfg, msg, msglen))) {
    native_close(&u->t);
    return NNFDRV_ERR_IO;
  }
  if (nnfdrv_usbio_drain(u->io, 20, 500) < 0) {   /* stale answers of an earlier session */
    char e[256];
    nnfdrv_usbio_recv(u->io, (uint8_t *)e, 0, 0, e, sizeof e);
    snprintf(msg, msglen, "%s", e);
    native_close(&u->t);
    return NNFDRV_ERR_IO;
  }
  u->t.send = native_send;
  u->t.recv = native_recv;
  u->t.close = native_close;
  u->t.no_flow_control = 0;   /* the device NAKs what it cannot take */
  *out = &u->t;
  return NNFDRV_OK;
}

#else

int nnfdrv_open_libusb(unsigned vid, unsigned pid, const char *serial, const char *product,
                       nnfdrv_transport **out, char *msg, size_t msglen) {
  (void)vid, (void)pid, (void)serial, (void)product, (void)out;
  snprintf(msg, msglen, "usb: this build has no libusb-1.0 (install libusb-1.0-0-dev and rebuild)");
  return NNFDRV_ERR_UNSUPPORTED;
}

#endif
