/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Plaintext from TLS libraries, with uprobes.
 *
 * The agent attaches qtap_tls_enter/qtap_tls_return to each read/write
 * function a library plan names (src/tls/openssl_plan.h), with a cookie
 * saying the direction, where the byte count is (return value or a size_t *
 * argument) and which library it is. Plaintext becomes data events flagged
 * QTAP_DATA_F_TLS on the socket's connection, with their own stream offsets.
 *
 * Session -> socket: SSL_set_fd names it; otherwise the read/write syscall a
 * TLS call makes on its socket (nested inside the call) does. Runtimes that
 * use memory BIOs (node) make no syscall inside the call: their plaintext
 * write is followed on the same thread by the ciphertext write, which binds
 * the session (marked "inferred"). Until a session has a socket its events
 * carry conn_id 0 and the session pointer, and userspace says so.
 */
#ifndef QTAP_BPF_TLS_H
#define QTAP_BPF_TLS_H

#include "capture.h"
#include "maps.h"
#include "sockets.h"
#include <bpf/bpf_tracing.h>

#define QTAP_PROT_EXEC 4
/* A memory-BIO session binds to the next socket write of its thread only if
 * the thread ran at most this long in between. On-CPU time, not wall time: a
 * thread preempted between the two calls on a busy host is still "at once". */
#define QTAP_TLS_BIND_WINDOW_NS (5 * 1000 * 1000)

/* The current thread's time on CPU (updated at ticks and switches). */
static __always_inline __u64 thread_cpu_ns(void) {
  struct task_struct *t = (struct task_struct *)bpf_get_current_task();
  return BPF_CORE_READ(t, se.sum_exec_runtime);
}

/* Plaintext stream positions of sessions without a known socket. */
struct tls_orphan {
  __u64 sent;
  __u64 recv;
};

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, struct qtap_tls_key);
  __type(value, struct tls_orphan);
} tls_orphans SEC(".maps");

static __always_inline __u64 advance_tls(struct conn_state *st, __u8 dir, __u64 len) {
  if (dir == QTAP_DIR_SEND)
    return __sync_fetch_and_add(&st->tls_sent, len);
  return __sync_fetch_and_add(&st->tls_recv, len);
}

/* Every read/write syscall inside a TLS call lands here: the binding is
 * rewritten only when it changes (an LRU update costs more than the lookup). */
static __always_inline void bind_session(__u32 pid, __u64 session, int fd, __u32 inferred) {
  struct qtap_tls_key key = {.pid = pid, .session = session};
  struct tls_fd *cur = bpf_map_lookup_elem(&tls_fds, &key);
  if (cur && cur->fd == fd && cur->inferred == inferred)
    return;
  struct tls_fd tf = {.fd = fd, .inferred = inferred};
  bpf_map_update_elem(&tls_fds, &key, &tf, BPF_ANY);
  if (!cur)
    bpf_map_delete_elem(&tls_orphans, &key);
}

/* Called for every read/write syscall on a tracked socket: true if it moved
 * TLS ciphertext (it happened inside a TLS call, or right after a
 * memory-BIO session's plaintext write), binding the session to the socket. */
static __always_inline bool tls_saw_socket(__u32 pid, int fd, __u8 dir, struct conn_state *st) {
  struct tls_call *c = task_slot(tls_calls);
  if (c && c->session) {
    bind_session(pid, c->session, fd, 0);
    st->flags |= CONN_F_TLS;
    return true;
  }
  if (dir != QTAP_DIR_SEND)
    return false;
  struct tls_pending *p = task_slot(tls_pending);
  if (!p || !p->session)
    return false;
  bool fresh = thread_cpu_ns() - p->cpu_ns < QTAP_TLS_BIND_WINDOW_NS;
  if (fresh) {
    bind_session(pid, p->session, fd, 1);
    st->flags |= CONN_F_TLS;
  }
  p->session = 0;
  return fresh;
}

SEC("uprobe")
int BPF_KPROBE(qtap_tls_enter) {
  __u64 id = bpf_get_current_pid_tgid();
  if (qtap_noop || !pid_wanted(id >> 32))
    return 0;
  struct tls_call c = {};
  c.cookie = bpf_get_attach_cookie(ctx);
  c.session = PT_REGS_PARM1(ctx);
  /* All loads first: the verifier refuses a context access at an offset
   * chosen at run time, which a branch between them would let clang make. */
  __u64 arg2 = PT_REGS_PARM2(ctx);
  __u64 arg3 = PT_REGS_PARM3(ctx);
  __u64 arg4 = PT_REGS_PARM4(ctx);
  __u64 arg5 = PT_REGS_PARM5(ctx);
  asm volatile("" : "+r"(arg2), "+r"(arg3), "+r"(arg4), "+r"(arg5));
  __u8 style = (c.cookie >> 8) & 0xff;
  c.buf = arg2;
  if (style == QTAP_TLS_STYLE_DONE_ARG4) {
    c.done_ptr = arg4;
  } else if (style == QTAP_TLS_STYLE_DONE_ARG5) {
    c.done_ptr = arg5;
  } else if (style == QTAP_TLS_STYLE_RECORD_TYPE) {
    if ((__u32)arg2 != 23) /* alerts, handshake, heartbeats: not application data */
      return 0;
    c.buf = arg3;
  }
  struct tls_call *cur = task_slot_new(tls_calls);
  if (cur)
    *cur = c; /* only this thread touches its entry */
  return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(qtap_tls_return, long rc) {
  __u64 id = bpf_get_current_pid_tgid();
  if (qtap_noop)
    return 0;
  struct tls_call *cp = task_slot(tls_calls);
  if (!cp || !cp->session)
    return 0;
  struct tls_call c = *cp;
  cp->session = 0;

  /* Byte counts come from the return value or the out argument only, so a
   * non-blocking call that returns WANT_READ/WANT_WRITE adds nothing and its
   * retry is not counted twice. */
  /* Every probed function returns a C int: only %eax is defined, the upper
   * half of %rax is whatever was there (a -1 must not read as 4294967295). */
  int ret = (int)rc;
  __u8 style = (c.cookie >> 8) & 0xff;
  __u64 bytes = 0;
  if (style == QTAP_TLS_STYLE_RET) {
    bytes = ret > 0 ? ret : 0;
  } else if (style == QTAP_TLS_STYLE_RET_SSIZE || style == QTAP_TLS_STYLE_RECORD_TYPE) {
    bytes = rc > 0 ? rc : 0;
  } else if (ret > 0 && c.done_ptr) {
    bpf_probe_read_user(&bytes, sizeof(bytes), (void *)c.done_ptr);
  }
  if (bytes == 0)
    return 0;
  __u8 dir = c.cookie & 0xff;
  __u8 lib = (c.cookie >> 16) & 0xff;
  __u32 pid = id >> 32;
  count(QTAP_CTR_TLS_CALLS, 1);

  struct qtap_tls_key key = {.pid = pid, .session = c.session};
  struct tls_fd *tf = bpf_map_lookup_elem(&tls_fds, &key);
  struct conn_state *st = tf ? conn_lookup_or_infer(pid, tf->fd) : NULL;
  if (st && (st->flags & CONN_F_FILTERED)) {
    count(QTAP_CTR_FILTERED_BYTES, bytes);
    return 0;
  }
  if (st && tf) {
    st->flags |= CONN_F_TLS;
    __u8 flags = QTAP_DATA_F_TLS | (tf->inferred ? QTAP_DATA_F_FD_INFERRED : 0);
    capture(st->conn_id, tf->fd, dir, QTAP_CALL_TLS, advance_tls(st, dir, bytes), bytes, c.buf, 0,
            flags, lib, c.session);
    return 0;
  }

  /* No socket known for this session (yet). */
  count(QTAP_CTR_TLS_NO_SOCKET, 1);
  struct tls_orphan zero = {};
  bpf_map_update_elem(&tls_orphans, &key, &zero, BPF_NOEXIST);
  struct tls_orphan *o = bpf_map_lookup_elem(&tls_orphans, &key);
  if (!o)
    return 0;
  __u64 offset = dir == QTAP_DIR_SEND ? __sync_fetch_and_add(&o->sent, bytes)
                                      : __sync_fetch_and_add(&o->recv, bytes);
  capture(0, -1, dir, QTAP_CALL_TLS, offset, bytes, c.buf, 0, QTAP_DATA_F_TLS, lib, c.session);
  if (dir == QTAP_DIR_SEND) {
    struct tls_pending *p = task_slot_new(tls_pending);
    if (p) {
      p->session = c.session;
      p->cpu_ns = thread_cpu_ns();
    }
  }
  return 0;
}

/* SSL_set_fd(ssl, fd): the session's socket, before any data. */
SEC("uprobe")
int BPF_KPROBE(qtap_tls_set_fd, void *session, int fd) {
  __u32 pid = bpf_get_current_pid_tgid() >> 32;
  if (qtap_noop || !pid_wanted(pid))
    return 0;
  bind_session(pid, (__u64)session, fd, 0);
  return 0;
}

/* SSL_free(ssl): the pointer may be reused for another session. */
SEC("uprobe")
int BPF_KPROBE(qtap_tls_free, void *session) {
  __u32 pid = bpf_get_current_pid_tgid() >> 32;
  if (qtap_noop)
    return 0;
  struct qtap_tls_key key = {.pid = pid, .session = (__u64)session};
  bpf_map_delete_elem(&tls_fds, &key);
  bpf_map_delete_elem(&tls_orphans, &key);
  return 0;
}

/* mmap(PROT_EXEC) of a file never reported before: the agent decides whether
 * it is a TLS library (a dlopen()ed libssl, a container's own copy). */
static __always_inline void report_exec_mapping(int fd) {
  struct file *file = fd_to_file(fd);
  if (!file)
    return;
  __u64 ino = BPF_CORE_READ(file, f_inode, i_ino);
  __u32 dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
  __u64 key = ((__u64)dev << 32) ^ ino;
  __u8 one = 1;
  if (bpf_map_update_elem(&seen_files, &key, &one, BPF_NOEXIST) != 0)
    return; /* already reported */
  struct qtap_exec_mapping_event ev = {};
  fill_header(&ev.hdr, QTAP_EV_EXEC_MAPPING);
  ev.ino = ino;
  ev.dev = dev;
  const unsigned char *name = BPF_CORE_READ(file, f_path.dentry, d_name.name);
  bpf_probe_read_kernel_str(ev.name, sizeof(ev.name), name);
  submit_flags(&ev, sizeof(ev), 0, true);
}

#endif /* QTAP_BPF_TLS_H */
