/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Copying a call's bytes to the ring buffer in bounded chunks. */
#ifndef QTAP_BPF_CAPTURE_H
#define QTAP_BPF_CAPTURE_H

#include "maps.h"

/* Upper bound on bpf_loop steps per call. A step copies one piece (up to a
 * chunk, or the rest of an iovec entry) or loads one iovec entry:
 * 4096 steps cover 16 MiB in 16 KiB chunks and then some. */
#define QTAP_MAX_STEPS 4096

struct user_iovec {
  __u64 base;
  __u64 len;
};

/* Walks a buffer, or an iovec array, one bpf_loop step at a time, filling
 * the per-CPU scratch event and sending it whenever it is full or the call's
 * bytes are done. The event header fields that do not change per chunk are
 * already in the scratch event. Kept free of inner loops: the verifier then
 * sees one short path per step. */
static __always_inline void report_gap(__u64 conn_id, int fd, __u8 direction, __u8 call,
                                       __u64 offset, __u64 len, __u8 flags, __u8 tls_lib,
                                       __u64 tls_session);

/* Sends the chunk being filled; `skip` more bytes after it were unreadable
 * and are reported as a hole. */
static __always_inline void send_chunk(struct data_scratch *sc, struct copy_state *s, __u64 skip) {
  __u32 pos = s->pos;
  if (pos > 0) {
    if (pos > QTAP_CHUNK_SIZE)
      pos = QTAP_CHUNK_SIZE;
    sc->ev.offset = s->offset;
    sc->ev.len = pos;
    submit(&sc->ev, offsetof(struct qtap_data_event, payload) + pos, pos);
  }
  if (skip > 0) {
    report_gap(sc->ev.conn_id, sc->ev.fd, sc->ev.direction, sc->ev.call, s->offset + s->pos, skip,
               sc->ev.flags, sc->ev.tls_lib, sc->ev.tls_session);
  }
  s->offset += s->pos + skip;
  s->pos = 0;
}

static long copy_step(__u32 index, void *unused) {
  struct data_scratch *sc = scratch_slot();
  if (!sc)
    return 1;
  struct copy_state *s = &sc->st;
  if (s->remaining == 0) {
    send_chunk(sc, s, 0);
    return 1;
  }
  if (s->cur_left == 0) {
    struct user_iovec v = {};
    if (s->iov_count == 0 || bpf_probe_read_user(&v, sizeof(v), (void *)s->iov) != 0) {
      /* The iovecs held less than the call moved, or were unreadable. */
      count(QTAP_CTR_COPY_FAILURES, 1);
      send_chunk(sc, s, s->remaining);
      s->remaining = 0;
      return 1;
    }
    s->iov += sizeof(v);
    s->iov_count--;
    s->cur_base = v.base;
    s->cur_left = v.len;
    return 0;
  }
  __u32 pos = s->pos;
  if (pos >= QTAP_CHUNK_SIZE)
    pos = 0; /* unreachable: a full chunk is sent below */
  __u64 n = s->cur_left;
  if (n > s->remaining)
    n = s->remaining;
  if (n > QTAP_CHUNK_SIZE - pos)
    n = QTAP_CHUNK_SIZE - pos;
  /* Bounds the verifier can follow: pos < CHUNK and n <= CHUNK, and the
   * scratch has CHUNK bytes of slack after the payload. */
  pos &= QTAP_CHUNK_SIZE - 1;
  n &= (2 * QTAP_CHUNK_SIZE) - 1;
  if (n > QTAP_CHUNK_SIZE)
    n = QTAP_CHUNK_SIZE;
  if (bpf_probe_read_user(sc->ev.payload + pos, n, (void *)s->cur_base) != 0) {
    count(QTAP_CTR_COPY_FAILURES, 1);
    s->cur_base += n;
    s->cur_left -= n;
    s->remaining -= n;
    send_chunk(sc, s, n);
    return 0;
  }
  s->pos = pos + n;
  s->cur_base += n;
  s->cur_left -= n;
  s->remaining -= n;
  if (s->pos >= QTAP_CHUNK_SIZE || s->remaining == 0)
    send_chunk(sc, s, 0);
  return s->remaining == 0 ? 1 : 0;
}

/* Reports bytes of a stream that moved without being copied. */
static __always_inline void report_gap(__u64 conn_id, int fd, __u8 direction, __u8 call,
                                       __u64 offset, __u64 len, __u8 flags, __u8 tls_lib,
                                       __u64 tls_session) {
  struct qtap_data_gap_event ev = {};
  fill_header(&ev.hdr, QTAP_EV_DATA_GAP);
  ev.conn_id = conn_id;
  ev.offset = offset;
  ev.len = len;
  ev.fd = fd;
  ev.direction = direction;
  ev.call = call;
  ev.flags = flags;
  ev.tls_lib = tls_lib;
  ev.tls_session = tls_session;
  submit(&ev, sizeof(ev), 0);
}

/* Sends `len` bytes that the call moved (at stream offset `offset`), taken
 * from a plain buffer (iov_count == 0) or an iovec array, honouring the
 * per-call limit. Bytes beyond it are counted, and show up in userspace as a
 * gap in the stream offsets. */
static __always_inline void capture(__u64 conn_id, int fd, __u8 direction, __u8 call,
                                    __u64 offset, __u64 len, __u64 buf, __u64 iov_count,
                                    __u8 flags, __u8 tls_lib, __u64 tls_session) {
  struct data_scratch *sc = scratch_slot();
  if (!sc)
    return;
  fill_header(&sc->ev.hdr, QTAP_EV_DATA);
  sc->ev.conn_id = conn_id;
  sc->ev.call_len = len > 0xffffffffull ? 0xffffffffu : (__u32)len;
  sc->ev.fd = fd;
  sc->ev.direction = direction;
  sc->ev.call = call;
  sc->ev.flags = flags;
  sc->ev.tls_lib = tls_lib;
  sc->ev.tls_session = tls_session;

  __u64 want = len;
  if (want > qtap_max_call_bytes) {
    count(QTAP_CTR_TRUNCATED_BYTES, want - qtap_max_call_bytes);
    want = qtap_max_call_bytes;
  }
  struct copy_state *s = &sc->st;
  s->offset = offset;
  s->remaining = want;
  s->pos = 0;
  if (iov_count == 0) {
    s->iov = 0;
    s->iov_count = 0;
    s->cur_base = buf;
    s->cur_left = want;
  } else {
    s->iov = buf;
    s->iov_count = iov_count;
    s->cur_base = 0;
    s->cur_left = 0;
  }
  bpf_loop(QTAP_MAX_STEPS, copy_step, NULL, 0);
  /* Whatever the loop could not reach (very many tiny iovec pieces). */
  if (s->remaining > 0)
    count(QTAP_CTR_IOV_TRUNCATED_BYTES, s->remaining);
  /* The tail that was not copied becomes an explicit hole, so userspace
   * knows where the call ended (a body's size stays exact). */
  __u64 end = offset + len;
  if (s->offset < end)
    report_gap(conn_id, fd, direction, call, s->offset, end - s->offset, flags, tls_lib, tls_session);
}

#endif /* QTAP_BPF_CAPTURE_H */
