/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* From a file descriptor to a TCP socket and its 4-tuple, with CO-RE reads.
 * No kprobes: everything is read from the current task inside a tracepoint. */
#ifndef QTAP_BPF_SOCKETS_H
#define QTAP_BPF_SOCKETS_H

#include "maps.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#define QTAP_AF_INET 2
#define QTAP_AF_INET6 10
#define QTAP_SOCK_STREAM 1
#define QTAP_S_IFMT 00170000
#define QTAP_S_IFSOCK 0140000

/* The open file behind `fd` in the current process, or NULL. */
static __always_inline struct file *fd_to_file(int fd) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
  if (!fdt || fd < 0)
    return NULL;
  unsigned int max_fds = BPF_CORE_READ(fdt, max_fds);
  if ((unsigned int)fd >= max_fds)
    return NULL;
  struct file **fds = BPF_CORE_READ(fdt, fd);
  struct file *file = NULL;
  bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
  return file;
}

/* The TCP (stream, IPv4/IPv6) socket behind `fd` in the current process, or
 * NULL for anything else: files, pipes, unix and UDP sockets. */
static __always_inline struct sock *fd_to_inet_stream(int fd, __u16 *family) {
  struct file *file = fd_to_file(fd);
  if (!file)
    return NULL;
  umode_t mode = BPF_CORE_READ(file, f_inode, i_mode);
  if ((mode & QTAP_S_IFMT) != QTAP_S_IFSOCK)
    return NULL;
  struct socket *sock = BPF_CORE_READ(file, private_data);
  if (!sock || BPF_CORE_READ(sock, type) != QTAP_SOCK_STREAM)
    return NULL;
  struct sock *sk = BPF_CORE_READ(sock, sk);
  if (!sk)
    return NULL;
  __u16 fam = BPF_CORE_READ(sk, __sk_common.skc_family);
  if (fam != QTAP_AF_INET && fam != QTAP_AF_INET6)
    return NULL;
  *family = fam;
  return sk;
}

static __always_inline void v4_mapped(__u8 out[16], __u32 addr_be) {
  __builtin_memset(out, 0, 10);
  out[10] = 0xff;
  out[11] = 0xff;
  __builtin_memcpy(&out[12], &addr_be, 4);
}

static __always_inline void read_tuple(struct sock *sk, __u16 family,
                                       struct qtap_sockaddr *local,
                                       struct qtap_sockaddr *remote) {
  if (family == QTAP_AF_INET) {
    v4_mapped(local->addr, BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr));
    v4_mapped(remote->addr, BPF_CORE_READ(sk, __sk_common.skc_daddr));
  } else {
    BPF_CORE_READ_INTO(&local->addr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
    BPF_CORE_READ_INTO(&remote->addr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
  }
  local->port = BPF_CORE_READ(sk, __sk_common.skc_num);
  remote->port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
}

/* Starts tracking `fd` as a new connection and announces it to userspace.
 * Returns the new state, or NULL if the table refused it. */
static __always_inline struct conn_state *
conn_open(__u32 pid, int fd, struct sock *sk, __u16 family, __u8 source) {
  struct qtap_fd_key key = {.pid = pid, .fd = fd};
  struct conn_state st = {};
  struct qtap_conn_open_event ev = {};
  read_tuple(sk, family, &ev.local, &ev.remote);
  if (conn_excluded(&ev.local, &ev.remote, source)) {
    /* Remembered (so the fd is not walked again) but never reported. */
    st.flags = CONN_F_FILTERED;
    count(QTAP_CTR_FILTERED_CONNS, 1);
    bpf_map_update_elem(&conns, &key, &st, BPF_ANY);
    return bpf_map_lookup_elem(&conns, &key);
  }
  st.conn_id = __sync_fetch_and_add(&qtap_next_conn_id, 1) + 1;
  if (bpf_map_update_elem(&conns, &key, &st, BPF_ANY) != 0) {
    count(QTAP_CTR_CONN_TABLE_FULL, 1);
    return NULL;
  }
  fill_header(&ev.hdr, QTAP_EV_CONN_OPEN);
  ev.conn_id = st.conn_id;
  ev.fd = fd;
  ev.family = family;
  ev.source = source;
  ev.cgroup_id = bpf_get_current_cgroup_id();
  __u64 ug = bpf_get_current_uid_gid();
  ev.uid = (__u32)ug;
  ev.gid = ug >> 32;
  bpf_get_current_comm(ev.comm, sizeof(ev.comm));
  submit(&ev, sizeof(ev), 0);
  count(QTAP_CTR_CONN_OPENED, 1);
  return bpf_map_lookup_elem(&conns, &key);
}

/* The connection behind `fd`: known already, or discovered now (a socket that
 * was opened before qtap started, or inherited). NULL if not a TCP socket. */
static __always_inline struct conn_state *conn_lookup_or_infer(__u32 pid, int fd) {
  struct qtap_fd_key key = {.pid = pid, .fd = fd};
  struct conn_state *st = bpf_map_lookup_elem(&conns, &key);
  if (st)
    return st;
  __u16 family = 0;
  struct sock *sk = fd_to_inet_stream(fd, &family);
  if (!sk)
    return NULL;
  return conn_open(pid, fd, sk, family, QTAP_SRC_INFERRED);
}

static __always_inline void conn_close(__u32 pid, int fd) {
  struct qtap_fd_key key = {.pid = pid, .fd = fd};
  struct conn_state *st = bpf_map_lookup_elem(&conns, &key);
  if (!st)
    return;
  if (st->flags & CONN_F_FILTERED) {
    bpf_map_delete_elem(&conns, &key);
    return;
  }
  struct qtap_conn_close_event ev = {};
  fill_header(&ev.hdr, QTAP_EV_CONN_CLOSE);
  ev.conn_id = st->conn_id;
  ev.fd = fd;
  ev.bytes_sent = st->bytes_sent;
  ev.bytes_recv = st->bytes_recv;
  bpf_map_delete_elem(&conns, &key);
  submit(&ev, sizeof(ev), 0);
  count(QTAP_CTR_CONN_CLOSED, 1);
}

#endif /* QTAP_BPF_SOCKETS_H */
