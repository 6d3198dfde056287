/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Maps and load-time configuration shared by every qtap BPF program. */
#ifndef QTAP_BPF_MAPS_H
#define QTAP_BPF_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "include/qtap_abi.h"

/* Load-time configuration, set by userspace in .rodata before load. */
const volatile __u32 qtap_self_pid = 0;        /* never trace the agent itself */
const volatile __u32 qtap_max_call_bytes = 1u << 20; /* copy limit per call */
/* Wake the agent only once this much is waiting in the ring buffer; it
 * also drains the buffer on a short timer. One wakeup per event would cost a
 * context switch per read/write of every traced program. 0: wake always. */
const volatile __u32 qtap_wakeup_bytes = 256 * 1024;
/* 1: every program returns at once (benchmark floor: the cost of the probes
 * themselves, with no work in them). */
const volatile __u8 qtap_noop = 0;

/* Userspace sizes the ring buffer before load (bpf_map__set_max_entries). */
struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 16 * 1024 * 1024);
} events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, QTAP_CTR__COUNT);
  __type(key, __u32);
  __type(value, __u64);
} stats SEC(".maps");

/* Kernel-side filters (see qtap_filter in the ABI header). */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct qtap_filter);
} filter SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, __u8);
} pid_exclude SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u64); /* cgroup v2 id */
  __type(value, __u8);
} cgroup_include SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u64);
  __type(value, __u8);
} cgroup_exclude SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 8192);
  __type(key, __u16); /* a port */
  __type(value, __u8); /* QTAP_PORT_* bits: how it filters as a local / remote port */
} port_filter SEC(".maps");

/* Pids to trace with QTAP_FILTER_PID_INCLUDE (--pid, config filters). */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, __u8);
} pid_filter SEC(".maps");

#define CONN_F_TLS 1u      /* a TLS library was seen using this socket */
#define CONN_F_FILTERED 2u /* excluded by a port filter: nothing is copied */

/* What qtap knows about one socket fd. */
struct conn_state {
  __u64 conn_id;
  __u64 bytes_sent; /* stream positions: advanced atomically per call */
  __u64 bytes_recv;
  __u64 tls_sent;   /* plaintext stream positions, from the TLS probes */
  __u64 tls_recv;
  __u32 flags;      /* CONN_F_* */
  __u32 _pad;
};

/* (pid, fd) -> connection. LRU so a process that dies without close() cannot
 * fill it; userspace also deletes the entries of exited processes. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct qtap_fd_key);
  __type(value, struct conn_state);
} conns SEC(".maps");

/* A TLS library call in flight on a thread, from its entry probe to its
 * return probe. Task-local storage, created at the thread's first TLS call
 * and freed by the kernel with the thread: no capacity to run out of (the
 * hash it replaced held 16384 threads; a thread beyond lost its calls), and
 * found from the current task without hashing (per run, no faster than the
 * hash was, within bpf_stats' noise). The entry probe writes it in place; the
 * return probe marks it done (session 0). */
struct tls_call {
  __u64 session;  /* SSL *; 0: no call in flight */
  __u64 buf;
  __u64 done_ptr; /* where the byte count is written (size_t *), or 0 */
  __u64 cookie;   /* QTAP_TLS_COOKIE(direction, style, library) */
};

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct tls_call);
} tls_calls SEC(".maps");

/* TLS session -> socket fd, learned from SSL_set_fd or from the read/write
 * syscall a TLS call makes on its socket. */
struct tls_fd {
  __s32 fd;
  __u32 inferred; /* 1: guessed from call order (memory BIO runtimes) */
};

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct qtap_tls_key);
  __type(value, struct tls_fd);
} tls_fds SEC(".maps");

/* A TLS session that wrote plaintext without touching a socket (its library
 * writes into a memory BIO; node does). The same thread's next socket write
 * carries its ciphertext, which names the socket. Task-local like tls_calls;
 * session 0: nothing pending. */
struct tls_pending {
  __u64 session;
  __u64 cpu_ns; /* thread_cpu_ns() at the plaintext write */
};

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct tls_pending);
} tls_pending SEC(".maps");

/* The current thread's entry in a task-local map, or NULL if it has none. */
#define task_slot(map) bpf_task_storage_get(&(map), bpf_get_current_task_btf(), 0, 0)
/* The same, created (zeroed) if missing; NULL only if memory is short. */
#define task_slot_new(map) \
  bpf_task_storage_get(&(map), bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE)

/* Files already reported as mapped executable: (dev << 32) ^ ino. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, __u64);
  __type(value, __u8);
} seen_files SEC(".maps");

/* Scratch space for building large events off the 512-byte BPF stack. The
 * slack after the data event lets the verifier accept "offset < CHUNK plus
 * length <= CHUNK" copies without proving their sum is below CHUNK.
 * Per-CPU array values are limited to 32 KiB, so this is a plain array with
 * one slot per possible CPU (userspace sets max_entries), indexed by the
 * current CPU: a tracepoint program cannot migrate or nest on its CPU. */
struct copy_state {
  __u64 iov;       /* next struct iovec to load (user pointer), 0 if none */
  __u64 iov_count; /* iovecs not yet loaded */
  __u64 cur_base;  /* current piece */
  __u64 cur_left;
  __u64 remaining; /* bytes still to copy in this call */
  __u64 offset;    /* stream offset of the chunk being filled */
  __u32 pos;       /* bytes in the chunk being filled */
  __u32 _pad;
};

struct data_scratch {
  /* The copy loop's state lives here rather than on the stack: values in a
   * map are unknown to the verifier, so it checks a bpf_loop step once
   * instead of simulating iterations with exact values. */
  struct copy_state st;
  struct qtap_data_event ev;
  char slack[QTAP_CHUNK_SIZE];
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct data_scratch);
} data_scratch SEC(".maps");

static __always_inline struct data_scratch *scratch_slot(void) {
  __u32 cpu = bpf_get_smp_processor_id();
  return bpf_map_lookup_elem(&data_scratch, &cpu);
}

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct qtap_proc_exec_event);
} exec_scratch SEC(".maps");

/* A counter in .bss: unique connection ids for the agent's lifetime. */
__u64 qtap_next_conn_id = 0;

static __always_inline void count(enum qtap_counter c, __u64 v) {
  __u32 key = c;
  __u64 *p = bpf_map_lookup_elem(&stats, &key);
  if (p)
    *p += v; /* per-CPU slot: no other writer can interleave */
}

/* Submits an event of `size` bytes, counting a drop if the buffer is full.
 * `urgent` events (exec, a TLS library mapped) wake the agent at once: the
 * attacher must probe a new program before its first TLS call. */
static __always_inline int submit_flags(void *ev, __u64 size, __u64 payload_bytes, bool urgent) {
  __u64 flags = 0;
  if (urgent) {
    flags = BPF_RB_FORCE_WAKEUP;
  } else if (qtap_wakeup_bytes) {
    /* Only the event that takes the backlog over the mark wakes the agent.
     * Waking it on every event above the mark (while it is still draining)
     * queued an irq_work, a self-IPI and on a VM an exit, per event. */
    __u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
    flags = avail < qtap_wakeup_bytes && avail + size >= qtap_wakeup_bytes ? BPF_RB_FORCE_WAKEUP
                                                                           : BPF_RB_NO_WAKEUP;
  }
  if (bpf_ringbuf_output(&events, ev, size, flags) != 0) {
    count(QTAP_CTR_RINGBUF_DROPS, 1);
    count(QTAP_CTR_RINGBUF_DROP_BYTES, payload_bytes);
    return -1;
  }
  count(QTAP_CTR_EVENTS, 1);
  count(QTAP_CTR_DATA_BYTES, payload_bytes);
  return 0;
}

static __always_inline int submit(void *ev, __u64 size, __u64 payload_bytes) {
  return submit_flags(ev, size, payload_bytes, false);
}

static __always_inline void fill_header(struct qtap_event_header *h, __u32 type) {
  __u64 id = bpf_get_current_pid_tgid();
  h->type = type;
  h->abi = QTAP_ABI_VERSION;
  h->ts_ns = bpf_ktime_get_boot_ns();
  h->pid = id >> 32;
  h->tid = (__u32)id;
}

static __always_inline __u32 filter_flags(void) {
  __u32 zero = 0;
  struct qtap_filter *f = bpf_map_lookup_elem(&filter, &zero);
  return f ? f->flags : 0;
}

/* True when the current process must be traced. */
static __always_inline bool pid_wanted(__u32 pid) {
  if (pid == qtap_self_pid)
    return false;
  __u32 flags = filter_flags();
  if (!flags)
    return true;
  if ((flags & QTAP_FILTER_PID_INCLUDE) && !bpf_map_lookup_elem(&pid_filter, &pid))
    return false;
  if ((flags & QTAP_FILTER_PID_EXCLUDE) && bpf_map_lookup_elem(&pid_exclude, &pid))
    return false;
  if (flags & (QTAP_FILTER_CGROUP_INCLUDE | QTAP_FILTER_CGROUP_EXCLUDE)) {
    __u64 cg = bpf_get_current_cgroup_id();
    if ((flags & QTAP_FILTER_CGROUP_INCLUDE) && !bpf_map_lookup_elem(&cgroup_include, &cg))
      return false;
    if ((flags & QTAP_FILTER_CGROUP_EXCLUDE) && bpf_map_lookup_elem(&cgroup_exclude, &cg))
      return false;
  }
  return true;
}

static __always_inline __u8 port_bits(__u16 port) {
  __u8 *b = bpf_map_lookup_elem(&port_filter, &port);
  return b ? *b : 0;
}

static __always_inline bool is_loopback(const struct qtap_sockaddr *a) {
  /* IPv4 is held v4-mapped (::ffff:a.b.c.d). */
  if (a->addr[10] == 0xff && a->addr[11] == 0xff)
    return a->addr[12] == 127;
  for (int i = 0; i < 15; i++)
    if (a->addr[i])
      return false;
  return a->addr[15] == 1;
}

/* True when a new connection is out of scope by its ports, its remote
 * address or its direction (the config's kernel-side filters). */
static __always_inline bool conn_excluded(const struct qtap_sockaddr *local,
                                          const struct qtap_sockaddr *remote, __u8 source) {
  __u32 flags = filter_flags();
  if (!(flags & (QTAP_FILTER_PORTS | QTAP_FILTER_ONLY_LOCAL_PORTS | QTAP_FILTER_ONLY_REMOTE_PORTS |
                 QTAP_FILTER_DROP_LOOPBACK | QTAP_FILTER_ONLY_EGRESS | QTAP_FILTER_ONLY_INGRESS)))
    return false;
  if ((flags & QTAP_FILTER_ONLY_EGRESS) && source == QTAP_SRC_ACCEPT)
    return true;
  if ((flags & QTAP_FILTER_ONLY_INGRESS) && source == QTAP_SRC_CONNECT)
    return true;
  if ((flags & QTAP_FILTER_DROP_LOOPBACK) && is_loopback(remote))
    return true;
  if (flags & (QTAP_FILTER_PORTS | QTAP_FILTER_ONLY_LOCAL_PORTS | QTAP_FILTER_ONLY_REMOTE_PORTS)) {
    __u8 l = port_bits(local->port), r = port_bits(remote->port);
    if ((l & QTAP_PORT_EXCLUDE_LOCAL) || (r & QTAP_PORT_EXCLUDE_REMOTE))
      return true;
    if ((flags & QTAP_FILTER_ONLY_LOCAL_PORTS) && !(l & QTAP_PORT_ONLY_LOCAL))
      return true;
    if ((flags & QTAP_FILTER_ONLY_REMOTE_PORTS) && !(r & QTAP_PORT_ONLY_REMOTE))
      return true;
  }
  return false;
}

#endif /* QTAP_BPF_MAPS_H */
