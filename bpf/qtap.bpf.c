// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * qtap's kernel side: socket syscalls and process lifecycle.
 *
 * Only hooks a locked-down kernel without kprobes or trampolines still offers:
 * the raw sys_enter/sys_exit tracepoints (one program each, dispatching on the
 * syscall number, as falco's modern probe does) and the sched tracepoints.
 * See docs/kernel.md.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "capture.h"
#include "maps.h"
#include "sockets.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* x86_64 syscall numbers (asm/unistd_64.h); the userspace feature probe
 * refuses other architectures. */
#define NR_read 0
#define NR_write 1
#define NR_close 3
#define NR_readv 19
#define NR_writev 20
#define NR_dup2 33
#define NR_sendfile 40
#define NR_connect 42
#define NR_accept 43
#define NR_sendto 44
#define NR_recvfrom 45
#define NR_sendmsg 46
#define NR_recvmsg 47
#define NR_splice 275
#define NR_accept4 288
#define NR_dup3 292
#define NR_recvmmsg 299
#define NR_sendmmsg 307

#define QTAP_EINPROGRESS 115

/* Data calls: which direction and ABI tag each one has. */
static __always_inline bool data_call_kind(long id, __u8 *call, __u8 *dir, __u8 *is_iov) {
  *is_iov = 0;
  switch (id) {
  case NR_read: *call = QTAP_CALL_READ; *dir = QTAP_DIR_RECV; return true;
  case NR_write: *call = QTAP_CALL_WRITE; *dir = QTAP_DIR_SEND; return true;
  case NR_recvfrom: *call = QTAP_CALL_RECVFROM; *dir = QTAP_DIR_RECV; return true;
  case NR_sendto: *call = QTAP_CALL_SENDTO; *dir = QTAP_DIR_SEND; return true;
  case NR_readv: *call = QTAP_CALL_READV; *dir = QTAP_DIR_RECV; *is_iov = 1; return true;
  case NR_writev: *call = QTAP_CALL_WRITEV; *dir = QTAP_DIR_SEND; *is_iov = 1; return true;
  case NR_recvmsg: *call = QTAP_CALL_RECVMSG; *dir = QTAP_DIR_RECV; *is_iov = 1; return true;
  case NR_sendmsg: *call = QTAP_CALL_SENDMSG; *dir = QTAP_DIR_SEND; *is_iov = 1; return true;
  }
  return false;
}

static __always_inline bool interesting(long id) {
  switch (id) {
  case NR_read: case NR_write: case NR_close: case NR_readv: case NR_writev:
  case NR_dup2: case NR_sendfile: case NR_connect: case NR_accept: case NR_sendto:
  case NR_recvfrom: case NR_sendmsg: case NR_recvmsg: case NR_splice:
  case NR_accept4: case NR_dup3: case NR_recvmmsg: case NR_sendmmsg:
    return true;
  }
  return false;
}

static __always_inline bool is_tracked(__u32 pid, int fd) {
  struct qtap_fd_key key = {.pid = pid, .fd = fd};
  return bpf_map_lookup_elem(&conns, &key) != NULL;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(qtap_sys_enter, struct pt_regs *regs, long id) {
  if (!interesting(id))
    return 0;
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u32 pid = pid_tgid >> 32;
  if (!pid_wanted(pid))
    return 0;

  int fd = (int)BPF_CORE_READ(regs, di);
  struct active_call c = {.fd = fd, .fd2 = -1};
  __u8 dir = 0;

  switch (id) {
  case NR_close:
    conn_close(pid, fd);
    return 0;
  case NR_dup2:
  case NR_dup3: {
    /* dup2 closes its target silently: end the connection that was there. */
    int newfd = (int)BPF_CORE_READ(regs, si);
    if (newfd != fd)
      conn_close(pid, newfd);
    return 0;
  }
  case NR_connect:
  case NR_accept:
  case NR_accept4:
    break; /* decided at exit, once the socket is connected */
  case NR_sendfile: /* sendfile(out_fd, in_fd, ...) */
    if (!is_tracked(pid, fd) && !conn_lookup_or_infer(pid, fd))
      return 0;
    c.call = QTAP_CALL_SENDFILE;
    break;
  case NR_splice: { /* splice(fd_in, off_in, fd_out, off_out, len, flags) */
    int out = (int)BPF_CORE_READ(regs, dx);
    int in_sock = conn_lookup_or_infer(pid, fd) != NULL;
    /* Keep clang from OR-ing the two map pointers: the verifier refuses
     * pointer arithmetic of that kind. */
    asm volatile("" : "+r"(in_sock));
    int out_sock = conn_lookup_or_infer(pid, out) != NULL;
    asm volatile("" : "+r"(out_sock));
    if (!in_sock && !out_sock)
      return 0;
    c.fd = in_sock ? fd : -1;
    c.fd2 = out_sock ? out : -1;
    c.call = QTAP_CALL_SPLICE;
    break;
  }
  case NR_sendmmsg:
  case NR_recvmmsg:
    /* Multi-message calls are rare on TCP: counted, not copied. */
    if (conn_lookup_or_infer(pid, fd)) {
      count(QTAP_CTR_UNCOPIED_CALLS, 1);
    }
    return 0;
  default: {
    __u8 is_iov = 0;
    if (!data_call_kind(id, &c.call, &dir, &is_iov))
      return 0;
    if (!conn_lookup_or_infer(pid, fd))
      return 0;
    c.is_iov = is_iov;
    if (id == NR_sendmsg || id == NR_recvmsg) {
      struct user_msghdr *msg = (struct user_msghdr *)BPF_CORE_READ(regs, si);
      struct user_msghdr m = {};
      if (bpf_probe_read_user(&m, sizeof(m), msg) != 0)
        return 0;
      c.buf = (__u64)m.msg_iov;
      c.count = m.msg_iovlen;
    } else {
      c.buf = BPF_CORE_READ(regs, si);
      c.count = BPF_CORE_READ(regs, dx);
    }
  }
  }
  bpf_map_update_elem(&active, &pid_tgid, &c, BPF_ANY);
  return 0;
}

/* Advances a direction's stream position by `len`, returning where it was. */
static __always_inline __u64 advance(struct conn_state *st, __u8 dir, __u64 len) {
  if (dir == QTAP_DIR_SEND)
    return __sync_fetch_and_add(&st->bytes_sent, len);
  return __sync_fetch_and_add(&st->bytes_recv, len);
}

static __always_inline void on_connected(__u32 pid, int fd, __u8 source) {
  __u16 family = 0;
  struct sock *sk = fd_to_inet_stream(fd, &family);
  if (sk)
    conn_open(pid, fd, sk, family, source);
}

static __always_inline void gap_on(__u32 pid, int fd, __u8 dir, __u8 call, __u64 len) {
  struct qtap_fd_key key = {.pid = pid, .fd = fd};
  struct conn_state *st = bpf_map_lookup_elem(&conns, &key);
  if (st)
    report_gap(st->conn_id, fd, dir, call, advance(st, dir, len), len);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(qtap_sys_exit, struct pt_regs *regs, long ret) {
  long id = BPF_CORE_READ(regs, orig_ax);
  if (!interesting(id))
    return 0;
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  struct active_call *cp = bpf_map_lookup_elem(&active, &pid_tgid);
  if (!cp)
    return 0;
  struct active_call c = *cp;
  bpf_map_delete_elem(&active, &pid_tgid);
  __u32 pid = pid_tgid >> 32;

  switch (id) {
  case NR_connect:
    if (ret == 0 || ret == -QTAP_EINPROGRESS)
      on_connected(pid, c.fd, QTAP_SRC_CONNECT);
    return 0;
  case NR_accept:
  case NR_accept4:
    if (ret >= 0)
      on_connected(pid, (int)ret, QTAP_SRC_ACCEPT);
    return 0;
  case NR_sendfile:
    if (ret > 0)
      gap_on(pid, c.fd, QTAP_DIR_SEND, QTAP_CALL_SENDFILE, ret);
    return 0;
  case NR_splice:
    if (ret > 0) {
      if (c.fd >= 0)
        gap_on(pid, c.fd, QTAP_DIR_RECV, QTAP_CALL_SPLICE, ret);
      if (c.fd2 >= 0)
        gap_on(pid, c.fd2, QTAP_DIR_SEND, QTAP_CALL_SPLICE, ret);
    }
    return 0;
  }

  if (ret <= 0)
    return 0;
  __u8 call = 0, dir = 0, is_iov = 0;
  if (!data_call_kind(id, &call, &dir, &is_iov))
    return 0;
  struct qtap_fd_key key = {.pid = pid, .fd = c.fd};
  struct conn_state *st = bpf_map_lookup_elem(&conns, &key);
  if (!st)
    return 0;
  __u64 offset = advance(st, dir, ret);
  capture(st->conn_id, c.fd, dir, call, offset, ret, c.buf, c.is_iov ? c.count : 0);
  return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(qtap_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm) {
  __u32 pid = bpf_get_current_pid_tgid() >> 32;
  if (!pid_wanted(pid))
    return 0;
  __u32 zero = 0;
  struct qtap_proc_exec_event *ev = bpf_map_lookup_elem(&exec_scratch, &zero);
  if (!ev)
    return 0;
  fill_header(&ev->hdr, QTAP_EV_PROC_EXEC);
  ev->ppid = BPF_CORE_READ(p, real_parent, tgid);
  __u64 ug = bpf_get_current_uid_gid();
  ev->uid = (__u32)ug;
  ev->gid = ug >> 32;
  ev->cgroup_id = bpf_get_current_cgroup_id();
  bpf_get_current_comm(ev->comm, sizeof(ev->comm));

  const char *filename = BPF_CORE_READ(bprm, filename);
  long n = bpf_probe_read_kernel_str(ev->data, QTAP_EXEC_FILENAME_LEN, filename);
  __u32 flen = n > 0 ? (__u32)(n - 1) : 0; /* without the NUL */
  flen &= QTAP_EXEC_FILENAME_LEN - 1;

  /* argv lives at the top of the new process's stack: current is `p`. */
  __u64 arg_start = BPF_CORE_READ(p, mm, arg_start);
  __u64 arg_end = BPF_CORE_READ(p, mm, arg_end);
  __u64 alen = arg_end > arg_start ? arg_end - arg_start : 0;
  if (alen > QTAP_EXEC_ARGS_LEN)
    alen = QTAP_EXEC_ARGS_LEN;
  if (alen && bpf_probe_read_user(ev->data + flen, alen, (void *)arg_start) != 0)
    alen = 0;
  ev->filename_len = flen;
  ev->args_len = alen;
  __u64 size = offsetof(struct qtap_proc_exec_event, data) + flen + alen;
  if (size > sizeof(*ev))
    size = sizeof(*ev);
  submit(ev, size, 0);
  return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(qtap_exit, struct task_struct *p) {
  /* One event per process: only when its last thread goes. */
  if (BPF_CORE_READ(p, signal, live.counter) != 0)
    return 0;
  __u32 pid = BPF_CORE_READ(p, tgid);
  if (!pid_wanted(pid))
    return 0;
  struct qtap_proc_exit_event ev = {};
  fill_header(&ev.hdr, QTAP_EV_PROC_EXIT);
  ev.hdr.pid = pid;
  ev.exit_code = BPF_CORE_READ(p, exit_code);
  submit(&ev, sizeof(ev), 0);
  return 0;
}
