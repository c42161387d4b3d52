/*
 * nnfdrv_transport.h - internal: what a backend provides to the driver core.
 * A transport moves bytes; framing, retries and fault injection live in
 * nnfdrv.c, so every backend gets them the same way.
 */
#ifndef NNFDRV_TRANSPORT_H
#define NNFDRV_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

typedef struct nnfdrv_transport nnfdrv_transport;

struct nnfdrv_transport {
  /* Send every byte. NNFDRV_OK or NNFDRV_ERR_IO (message in err). */
  int (*send)(nnfdrv_transport *t, const uint8_t *buf, size_t len);
  /* Receive 1..max bytes. Real links wait up to timeout_ms; simulated
   * devices run until they produce a byte or provably never will. Returns
   * the count, 0 when nothing came, or NNFDRV_ERR_IO (message in err). */
  int (*recv)(nnfdrv_transport *t, uint8_t *buf, size_t max, int timeout_ms);
  void (*close)(nnfdrv_transport *t);
  /* Optional (NULL: none): a simulator writing a waveform (sim:trace=):
   * its path and the cycles the trace holds so far, [*first, *end). */
  int (*trace_range)(nnfdrv_transport *t, const char **path, uint64_t *first, uint64_t *end);
  /* 1: the link has no flow control (a UART): bytes that reach the device
   * while it holds its input (a WRITE waiting for a running program) are
   * lost, so the driver WAITs for the program first (nnfdrv_write). */
  int no_flow_control;
  char err[256];
};

/* Backends. Each returns NNFDRV_OK and sets *out, or an error with a message
 * in msg (msglen bytes). `spec` is the URI after "<scheme>:" (may be ""),
 * except for usb, which gets all that follows "usb" ("", ":..." or "@...":
 * nnfdrv_usb.c). */
int nnfdrv_open_model(const char *spec, nnfdrv_transport **out, char *msg, size_t msglen);
int nnfdrv_open_sim(const char *spec, nnfdrv_transport **out, char *msg, size_t msglen);
int nnfdrv_open_serial(const char *spec, nnfdrv_transport **out, char *msg, size_t msglen);
int nnfdrv_open_usb(const char *spec, nnfdrv_transport **out, char *msg, size_t msglen);

#endif /* NNFDRV_TRANSPORT_H */
