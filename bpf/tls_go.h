/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Plaintext from Go's crypto/tls: (*Conn).Write and (*Conn).Read.
 *
 * Go (register ABI, >= 1.17) passes c in RAX, the slice's pointer and length
 * in RBX and RCX, returns n in RAX, and keeps the current goroutine in R14.
 * Uretprobes must not be used: they rewrite the return address on the stack,
 * and Go copies goroutine stacks. So the entry probe (on the first cheap
 * instruction of the prologue, where the arguments are intact) saves the call
 * keyed by goroutine - goroutines move between threads - and a plain uprobe on
 * every RET of the function reads n. (*Conn).Write needs no return probe
 * when its entry probe sits on the stack check (qtap_go_tls_write), and
 * (*Conn).Read none when its copy out is one call to runtime.memmove
 * (qtap_go_tls_read_copy).
 *
 * The socket comes from the tls.Conn itself: c.conn (a net.Conn interface
 * whose data word is a *net.TCPConn) -> fd *netFD -> pfd.Sysfd, at offsets
 * per Go version given by userspace (qtap_go_offsets).
 */
#ifndef QTAP_BPF_TLS_GO_H
#define QTAP_BPF_TLS_GO_H

#include "capture.h"
#include "maps.h"
#include "sockets.h"
#include <bpf/bpf_tracing.h>

struct go_call_key {
  __u32 pid;
  __u32 _pad;
  __u64 goroutine;
};

struct go_call {
  __u64 conn; /* *tls.Conn */
  __u64 buf;
  __u64 cookie;
};

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, struct go_call_key);
  __type(value, struct go_call);
} go_calls SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, QTAP_GO_OFFSETS_MAX);
  __type(key, __u32);
  __type(value, struct qtap_go_offsets);
} go_offsets SEC(".maps");

SEC("uprobe")
int BPF_KPROBE(qtap_go_tls_enter) {
  __u64 id = bpf_get_current_pid_tgid();
  if (qtap_noop || !pid_wanted(id >> 32))
    return 0;
  struct go_call_key key = {.pid = id >> 32, .goroutine = ctx->r14};
  struct go_call c = {.conn = ctx->ax, .buf = ctx->bx, .cookie = bpf_get_attach_cookie(ctx)};
  bpf_map_update_elem(&go_calls, &key, &c, BPF_ANY);
  return 0;
}

/* The socket fd of a *tls.Conn, or -1. */
static __always_inline int go_conn_fd(__u64 conn, __u32 offsets_index) {
  struct qtap_go_offsets *o = bpf_map_lookup_elem(&go_offsets, &offsets_index);
  if (!o)
    return -1;
  __u64 tcpconn = 0, netfd = 0, itab = 0;
  __s64 fd = -1;
  if (o->tcp_conn_itab &&
      (bpf_probe_read_user(&itab, sizeof(itab), (void *)(conn + o->conn_itab)) || itab != o->tcp_conn_itab))
    return -1;
  if (bpf_probe_read_user(&tcpconn, sizeof(tcpconn), (void *)(conn + o->conn_data)) || !tcpconn)
    return -1;
  if (bpf_probe_read_user(&netfd, sizeof(netfd), (void *)(tcpconn + o->tcpconn_fd)) || !netfd)
    return -1;
  if (bpf_probe_read_user(&fd, sizeof(fd), (void *)(netfd + o->netfd_sysfd)))
    return -1;
  return fd >= 0 && fd < (1 << 30) ? (int)fd : -1;
}

/* Joins n plaintext bytes at buf, read or written through the *tls.Conn
 * `conn`, to that connection's TLS stream. */
static __always_inline void go_emit(__u32 pid, __u64 conn, __u64 buf, __s64 n, __u64 cookie) {
  __u8 dir = cookie & 0xff;
  count(QTAP_CTR_TLS_CALLS, 1);
  int fd = go_conn_fd(conn, (cookie >> 24) & 0xff);
  struct conn_state *st = fd >= 0 ? conn_lookup_or_infer(pid, fd) : NULL;
  if (!st) {
    /* A tls.Conn over something that is not a TCP socket (a pipe, a unix
     * socket, another tls.Conn): nothing to join it to. */
    count(QTAP_CTR_TLS_NO_SOCKET, 1);
    return;
  }
  if (st->flags & CONN_F_FILTERED) {
    count(QTAP_CTR_FILTERED_BYTES, n);
    return;
  }
  st->flags |= CONN_F_TLS;
  __u64 offset = dir == QTAP_DIR_SEND ? __sync_fetch_and_add(&st->tls_sent, n)
                                      : __sync_fetch_and_add(&st->tls_recv, n);
  capture(st->conn_id, fd, dir, QTAP_CALL_TLS, offset, n, buf, 0, QTAP_DATA_F_TLS, QTAP_TLS_GO, conn);
}

/* Ends the goroutine's call in flight: n bytes at `buf`, or at the buffer its
 * entry saw when `buf` is 0. */
static __always_inline int go_finish(struct pt_regs *ctx, __s64 n, __u64 buf) {
  __u64 id = bpf_get_current_pid_tgid();
  if (qtap_noop)
    return 0;
  struct go_call_key key = {.pid = id >> 32, .goroutine = ctx->r14};
  struct go_call *cp = bpf_map_lookup_elem(&go_calls, &key);
  if (!cp)
    return 0;
  struct go_call c = *cp;
  bpf_map_delete_elem(&go_calls, &key);
  if (n > 0)
    go_emit(id >> 32, c.conn, buf ? buf : c.buf, n, c.cookie);
  return 0;
}

/* On a RET: RAX = n, the bytes are in b. */
SEC("uprobe")
int BPF_KPROBE(qtap_go_tls_ret) { return go_finish(ctx, ctx->ax, 0); }

/* (*Conn).Read's one `call runtime.memmove`, the copy of plaintext out of
 * c.input into b (bytes.(*Reader).Read, inlined): RAX = b.ptr, RBX = the
 * source, RCX = n, which is what Read returns. The copy has not happened
 * yet, so the bytes are read from the source. A call is emulated; the RETs
 * it replaces are single-stepped. */
SEC("uprobe")
int BPF_KPROBE(qtap_go_tls_read_copy) { return go_finish(ctx, ctx->cx, ctx->bx); }

/* (*Conn).Write probed on its stack-check `jbe` (QTAP_TLS_STYLE_GO_WRITE_AT_ENTRY):
 * RAX = c, RBX = b.ptr, RCX = b.len. jbe is taken when CF or ZF is set: then
 * the stack grows first and the prologue, with this probe, runs again. */
SEC("uprobe")
int BPF_KPROBE(qtap_go_tls_write) {
  __u64 id = bpf_get_current_pid_tgid();
  if (qtap_noop || !pid_wanted(id >> 32))
    return 0;
  if (ctx->flags & ((1 << 0) | (1 << 6))) /* X86_EFLAGS_CF | X86_EFLAGS_ZF */
    return 0;
  __s64 n = ctx->cx;
  if (n > 0)
    go_emit(id >> 32, ctx->ax, ctx->bx, n, bpf_get_attach_cookie(ctx));
  return 0;
}

#endif /* QTAP_BPF_TLS_GO_H */
