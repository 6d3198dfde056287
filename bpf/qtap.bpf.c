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
#include "tls.h"
#include "tls_go.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* x86_64 syscall numbers (asm/unistd_64.h); the userspace feature probe
 * refuses other architectures. */
#define NR_read 0
#define NR_write 1
#define NR_mmap 9
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

/* tp_btf hands a BTF-typed pt_regs: its fields are read with plain loads,
 * not bpf_probe_read_kernel calls; these programs run on every syscall of
 * the host, so the fast path is a load and a switch.
 *
 * Syscalls handled at exit. Their arguments are read there from the saved
 * user registers (pt_regs keeps di, si, dx, r10 untouched across the call),
 * so no per-call state is kept between entry and exit, and a call that was
 * already in flight when qtap attached (a server blocked in read()) is still
 * captured when it returns. */
static __always_inline bool handled_at_exit(long id) {
  switch (id) {
  case NR_read: case NR_write: case NR_readv: case NR_writev: case NR_sendfile:
  case NR_connect: case NR_accept: case NR_sendto: case NR_recvfrom: case NR_sendmsg:
  case NR_recvmsg: case NR_splice: case NR_accept4: case NR_recvmmsg: case NR_sendmmsg:
  case NR_mmap:
    return true;
  }
  return false;
}

/* close() and dup2() release an fd: handled at entry, while the fd still
 * names the old socket (at exit another thread may already have been given
 * the same number by accept()). */
SEC("tp_btf/sys_enter")
int BPF_PROG(qtap_sys_enter, struct pt_regs *regs, long id) {
  if (qtap_noop || (id != NR_close && id != NR_dup2 && id != NR_dup3))
    return 0;
  __u32 pid = bpf_get_current_pid_tgid() >> 32;
  if (!pid_wanted(pid))
    return 0;
  int fd = (int)regs->di;
  if (id == NR_close) {
    conn_close(pid, fd);
    return 0;
  }
  /* dup2 closes its target silently: end the connection that was there. */
  int newfd = (int)regs->si;
  if (newfd != fd)
    conn_close(pid, newfd);
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

/* Bytes moved through a socket without being copied (sendfile, splice). */
static __always_inline void gap_on(__u32 pid, int fd, __u8 dir, __u8 call, __u64 len) {
  struct conn_state *st = conn_lookup_or_infer(pid, fd);
  if (!st || (st->flags & CONN_F_FILTERED))
    return;
  count(QTAP_CTR_UNCOPIED_CALLS, 1);
  count(QTAP_CTR_UNCOPIED_BYTES, len);
  report_gap(st->conn_id, fd, dir, call, advance(st, dir, len), len, 0, 0, 0);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(qtap_sys_exit, struct pt_regs *regs, long ret) {
  long id = regs->orig_ax;
  if (qtap_noop || !handled_at_exit(id))
    return 0;
  /* A non-blocking connect() returning -EINPROGRESS has its local port bound
   * already: the connection exists from then on. */
  if (ret < 0 && !(id == NR_connect && ret == -QTAP_EINPROGRESS))
    return 0;
  __u32 pid = bpf_get_current_pid_tgid() >> 32;
  if (!pid_wanted(pid))
    return 0;
  int fd = (int)regs->di;

  switch (id) {
  case NR_mmap: /* mmap(addr, len, prot, flags, fd, off) */
    if (regs->dx & QTAP_PROT_EXEC)
      report_exec_mapping((int)regs->r8);
    return 0;
  case NR_connect:
    on_connected(pid, fd, QTAP_SRC_CONNECT);
    return 0;
  case NR_accept:
  case NR_accept4:
    on_connected(pid, (int)ret, QTAP_SRC_ACCEPT);
    return 0;
  case NR_sendfile: /* sendfile(out_fd, in_fd, offset, count) */
    if (ret > 0)
      gap_on(pid, fd, QTAP_DIR_SEND, QTAP_CALL_SENDFILE, ret);
    return 0;
  case NR_splice: /* splice(fd_in, off_in, fd_out, off_out, len, flags) */
    if (ret > 0) {
      gap_on(pid, fd, QTAP_DIR_RECV, QTAP_CALL_SPLICE, ret);
      gap_on(pid, (int)regs->dx, QTAP_DIR_SEND, QTAP_CALL_SPLICE, ret);
    }
    return 0;
  case NR_sendmmsg:
  case NR_recvmmsg:
    /* Multi-message calls are rare on TCP: counted, not copied. */
    if (ret > 0 && conn_lookup_or_infer(pid, fd))
      count(QTAP_CTR_UNCOPIED_CALLS, 1);
    return 0;
  }

  /* The data calls. */
  if (ret == 0)
    return 0;
  __u8 call = 0, dir = 0, is_iov = 0;
  if (!data_call_kind(id, &call, &dir, &is_iov))
    return 0;
  struct conn_state *st = conn_lookup_or_infer(pid, fd);
  if (!st)
    return 0;
  if (st->flags & CONN_F_FILTERED) {
    count(QTAP_CTR_FILTERED_BYTES, ret);
    return 0;
  }
  __u64 buf = regs->si;
  __u64 iov_count = 0;
  if (id == NR_sendmsg || id == NR_recvmsg) {
    struct user_msghdr m = {};
    if (bpf_probe_read_user(&m, sizeof(m), (void *)buf) != 0) {
      count(QTAP_CTR_COPY_FAILURES, 1);
      return 0;
    }
    buf = (__u64)m.msg_iov;
    iov_count = m.msg_iovlen;
  } else if (is_iov) {
    iov_count = regs->dx;
  }
  __u64 offset = advance(st, dir, ret);
  if (tls_saw_socket(pid, fd, dir, st) || (st->flags & CONN_F_TLS)) {
    /* Ciphertext: its plaintext comes from the TLS probes. */
    count(QTAP_CTR_CIPHERTEXT_SKIPPED_BYTES, ret);
    return 0;
  }
  capture(st->conn_id, fd, dir, call, offset, ret, buf, iov_count, 0, 0, 0);
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
  submit_flags(ev, size, 0, true);
  return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(qtap_exit, struct task_struct *p) {
  /* Runs for every thread (on the exiting thread); its task-local entries
   * (tls_calls, tls_pending) go with it. One event per process: only when
   * its last thread goes. */
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
