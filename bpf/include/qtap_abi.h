/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one contract between qtap's BPF programs and its userspace.
 *
 * Everything that crosses the ring buffer or a shared map is declared here and
 * included by both sides. Rules (see docs/kernel.md):
 *   - fixed-width types only, explicit padding, no pointers;
 *   - enums are append-only; bump QTAP_ABI_VERSION on any layout change;
 *   - a variable-length payload is always the last member, and only the bytes
 *     actually filled are submitted to the ring buffer.
 */
#ifndef QTAP_ABI_H
#define QTAP_ABI_H

#ifdef __BPF__
/* vmlinux.h provides the kernel's __u8 .. __u64. */
typedef __u8 qtap_u8;
typedef __u16 qtap_u16;
typedef __u32 qtap_u32;
typedef __u64 qtap_u64;
typedef __s32 qtap_s32;
typedef __s64 qtap_s64;
#else
#include <stdint.h>
typedef uint8_t qtap_u8;
typedef uint16_t qtap_u16;
typedef uint32_t qtap_u32;
typedef uint64_t qtap_u64;
typedef int32_t qtap_s32;
typedef int64_t qtap_s64;
#endif

#define QTAP_ABI_VERSION 3

#define QTAP_COMM_LEN 16
/* Largest payload of one data event. A larger read/write is split into
 * several events with consecutive stream offsets. Power of two (the BPF
 * verifier bounds copies with a mask). */
#define QTAP_CHUNK_SIZE (16 * 1024)
#define QTAP_EXEC_FILENAME_LEN 256
#define QTAP_EXEC_ARGS_LEN 1024

enum qtap_event_type {
  QTAP_EV_CONN_OPEN = 1,  /* a socket fd became known (connect/accept/first use) */
  QTAP_EV_CONN_CLOSE = 2, /* close() on a tracked socket fd */
  QTAP_EV_DATA = 3,       /* bytes read or written on a tracked socket */
  QTAP_EV_DATA_GAP = 4,   /* bytes moved that were not copied (sendfile, ...) */
  QTAP_EV_PROC_EXEC = 5,  /* a process image was replaced (execve) */
  QTAP_EV_PROC_EXIT = 6,  /* the last thread of a process exited */
  QTAP_EV_EXEC_MAPPING = 7, /* a file qtap had not seen was mapped executable */
};

/* How qtap learned about a socket fd. */
enum qtap_conn_source {
  QTAP_SRC_CONNECT = 1,  /* this process called connect(): egress */
  QTAP_SRC_ACCEPT = 2,   /* this process accepted it: ingress */
  QTAP_SRC_INFERRED = 3, /* first seen in a data call (opened before qtap) */
};

enum qtap_direction {
  QTAP_DIR_SEND = 0, /* bytes written by the traced process */
  QTAP_DIR_RECV = 1, /* bytes read by the traced process */
};

/* Which call moved the bytes (for debugging and per-call statistics). */
enum qtap_data_call {
  QTAP_CALL_READ = 1,
  QTAP_CALL_WRITE = 2,
  QTAP_CALL_READV = 3,
  QTAP_CALL_WRITEV = 4,
  QTAP_CALL_RECVFROM = 5,
  QTAP_CALL_SENDTO = 6,
  QTAP_CALL_RECVMSG = 7,
  QTAP_CALL_SENDMSG = 8,
  QTAP_CALL_SENDFILE = 9,
  QTAP_CALL_SENDMMSG = 10,
  QTAP_CALL_RECVMMSG = 11,
  QTAP_CALL_SPLICE = 12,
  QTAP_CALL_TLS = 13, /* a TLS library read/write (plaintext) */
};

/* TLS libraries, as reported in data events. */
enum qtap_tls_library {
  QTAP_TLS_NONE = 0,
  QTAP_TLS_OPENSSL = 1,
  QTAP_TLS_GO = 2,
  QTAP_TLS_GNUTLS = 3,
  QTAP_TLS_NSS = 4,
};

/* How a TLS probe reads its arguments (the uprobe's cookie). The ABI of the
 * probed function decides where the byte count is. */
enum qtap_tls_style {
  QTAP_TLS_STYLE_RET = 1,      /* int f(ssl, buf, int num): bytes = return value */
  QTAP_TLS_STYLE_DONE_ARG4 = 2, /* int f(ssl, buf, size_t, size_t *done): bytes = *done */
  QTAP_TLS_STYLE_DONE_ARG5 = 3, /* int f(ssl, buf, size_t, u64 flags, size_t *done) */
  QTAP_TLS_STYLE_RET_SSIZE = 4, /* ssize_t f(session, buf, size_t): bytes = return value */
  /* ssize_t f(session, int type, buf, size_t, ...) (GnuTLS's internal receive):
   * only record type 23 (application data) is plaintext for the application. */
  QTAP_TLS_STYLE_RECORD_TYPE = 5,
  /* Go (*Conn).Write probed on the `jbe` of its stack check: the bytes are
   * taken at entry, unless the flags say the call is about to grow its
   * stack (it comes back through the same probe). */
  QTAP_TLS_STYLE_GO_WRITE_AT_ENTRY = 6,
};

/* Where Go keeps the socket fd of a *tls.Conn (per Go version; the
 * "go_offsets" array map, indexed by the uprobe cookie's bits 24..31):
 *   fd = *(i64 *)(*(u64 *)(*(u64 *)(conn + conn_data) + tcpconn_fd) + netfd_sysfd)
 * (checked first: *(u64 *)(conn + conn_itab) == tcp_conn_itab, when known)
 * conn_data: the data word of tls.Conn's `conn net.Conn` interface;
 * tcpconn_fd: *net.TCPConn -> conn.fd (*netFD); netfd_sysfd: netFD.pfd.Sysfd. */
struct qtap_go_offsets {
  qtap_u32 conn_itab;   /* the itab word of tls.Conn's `conn net.Conn` */
  qtap_u32 conn_data;
  qtap_u32 tcpconn_fd;
  qtap_u32 netfd_sysfd;
  /* The (*net.TCPConn, net.Conn) itab: when non-zero, the walk is done only
   * if the connection is a plain TCP one (a wrapper type would read garbage). */
  qtap_u64 tcp_conn_itab;
};
#define QTAP_GO_OFFSETS_MAX 16

/* Uprobe cookie layout: direction | style << 8 | library << 16 | extra << 24
 * (extra: the Go offsets index). */
#define QTAP_TLS_COOKIE(dir, style, lib) \
  ((qtap_u64)(dir) | ((qtap_u64)(style) << 8) | ((qtap_u64)(lib) << 16))
#define QTAP_TLS_COOKIE_EXTRA(cookie, extra) ((cookie) | ((qtap_u64)(extra) << 24))

/* Flags on data events. */
#define QTAP_DATA_F_TLS (1u << 0)          /* plaintext taken from a TLS library probe */
#define QTAP_DATA_F_FD_INFERRED (1u << 1)  /* TLS session -> socket guessed from call order */

/* Every event starts with this header. */
struct qtap_event_header {
  qtap_u32 type;  /* enum qtap_event_type */
  qtap_u32 abi;   /* QTAP_ABI_VERSION */
  qtap_u64 ts_ns; /* CLOCK_BOOTTIME nanoseconds */
  qtap_u32 pid;   /* thread group id (what userspace calls a pid) */
  qtap_u32 tid;   /* thread id */
};

/* An IPv4 address is stored as ::ffff:a.b.c.d so both families share one
 * layout; `family` says which one the socket really was. */
struct qtap_sockaddr {
  qtap_u8 addr[16];
  qtap_u16 port; /* host byte order */
  qtap_u16 _pad[3];
};

struct qtap_conn_open_event {
  struct qtap_event_header hdr;
  qtap_u64 conn_id; /* unique for the agent's lifetime; survives fd reuse */
  qtap_s32 fd;
  qtap_u16 family; /* AF_INET or AF_INET6 */
  qtap_u8 source;  /* enum qtap_conn_source */
  qtap_u8 _pad0;
  struct qtap_sockaddr local;
  struct qtap_sockaddr remote;
  qtap_u64 cgroup_id;
  qtap_u32 uid;
  qtap_u32 gid;
  char comm[QTAP_COMM_LEN];
};

struct qtap_conn_close_event {
  struct qtap_event_header hdr;
  qtap_u64 conn_id;
  qtap_s32 fd;
  qtap_u32 _pad0;
  qtap_u64 bytes_sent; /* totals seen by the syscalls, captured or not */
  qtap_u64 bytes_recv;
};

/* One chunk of a socket's byte stream. `offset` is the position of the first
 * payload byte in this direction's stream, so userspace can detect loss and
 * reorder: a chunk starting past the end of what it has means a gap. */
struct qtap_data_event {
  struct qtap_event_header hdr;
  qtap_u64 conn_id;
  qtap_u64 offset;
  qtap_u32 call_len; /* bytes the whole call moved (syscall return value) */
  qtap_u32 len;      /* payload bytes in this event (<= QTAP_CHUNK_SIZE) */
  qtap_s32 fd;       /* -1 when a TLS session's socket is not known */
  qtap_u8 direction; /* enum qtap_direction */
  qtap_u8 call;      /* enum qtap_data_call */
  qtap_u8 flags;     /* QTAP_DATA_F_* */
  qtap_u8 tls_lib;   /* enum qtap_tls_library */
  qtap_u64 tls_session; /* the library's session pointer (SSL *), 0 for syscalls */
  char payload[QTAP_CHUNK_SIZE]; /* only `len` bytes are submitted */
};

/* Bytes that went through the socket (or a TLS session) but were not copied:
 * sendfile/splice, or the part of a call beyond the copy limit. Userspace
 * sees a hole at exactly these stream offsets. */
struct qtap_data_gap_event {
  struct qtap_event_header hdr;
  qtap_u64 conn_id;
  qtap_u64 offset;
  qtap_u64 len;
  qtap_s32 fd;
  qtap_u8 direction;
  qtap_u8 call;
  qtap_u8 flags;   /* QTAP_DATA_F_* (TLS: a hole in the plaintext stream) */
  qtap_u8 tls_lib;
  qtap_u64 tls_session;
};

struct qtap_proc_exec_event {
  struct qtap_event_header hdr;
  qtap_u32 ppid;
  qtap_u32 uid;
  qtap_u32 gid;
  qtap_u32 _pad0;
  qtap_u64 cgroup_id;
  char comm[QTAP_COMM_LEN];
  qtap_u16 filename_len; /* bytes of data[] holding the exe path, no NUL */
  qtap_u16 args_len;     /* bytes after it: argv, NUL-separated */
  qtap_u32 _pad1;
  char data[QTAP_EXEC_FILENAME_LEN + QTAP_EXEC_ARGS_LEN];
};

/* A file mapped executable for the first time (by device and inode): the
 * agent checks whether it is a TLS library and attaches probes. */
#define QTAP_FILE_NAME_LEN 64
struct qtap_exec_mapping_event {
  struct qtap_event_header hdr;
  qtap_u64 ino;
  qtap_u32 dev;      /* kernel encoding: major << 20 | minor */
  qtap_u32 _pad0;
  char name[QTAP_FILE_NAME_LEN]; /* last path component, NUL-terminated */
};

struct qtap_proc_exit_event {
  struct qtap_event_header hdr;
  qtap_s32 exit_code;
  qtap_u32 _pad0;
};

/*
 * Per-CPU counters (BPF_MAP_TYPE_PERCPU_ARRAY "stats", one u64 per index).
 * X-macro so the enum and userspace's names cannot drift apart.
 */
#define QTAP_COUNTERS(X)                                                        \
  X(EVENTS, "events")                           /* events submitted */          \
  X(DATA_BYTES, "data_bytes")                   /* payload bytes submitted */   \
  X(RINGBUF_DROPS, "ringbuf_drops")             /* events lost: buffer full */  \
  X(RINGBUF_DROP_BYTES, "ringbuf_drop_bytes")   /* payload bytes lost so */     \
  X(TRUNCATED_BYTES, "truncated_bytes")         /* over the per-call limit */   \
  X(IOV_TRUNCATED_BYTES, "iov_truncated_bytes") /* beyond the iovec limit */    \
  X(COPY_FAILURES, "copy_failures")             /* user memory unreadable */    \
  X(UNCOPIED_CALLS, "uncopied_calls")           /* sendfile, mmsg, splice */    \
  X(UNCOPIED_BYTES, "uncopied_bytes")                                           \
  X(CONN_OPENED, "conn_opened")                                                 \
  X(CONN_CLOSED, "conn_closed")                                                 \
  X(CONN_TABLE_FULL, "conn_table_full")                                         \
  X(TLS_CALLS, "tls_calls")                     /* TLS reads/writes with data */ \
  X(TLS_NO_SOCKET, "tls_no_socket")             /* ... whose socket was unknown */ \
  X(CIPHERTEXT_SKIPPED_BYTES, "ciphertext_skipped_bytes")                     \
  X(FILTERED_CONNS, "filtered_conns")           /* connections a filter dropped */ \
  X(FILTERED_BYTES, "filtered_bytes")           /* their bytes, never copied */

enum qtap_counter {
#define QTAP_COUNTER_ENUM(name, str) QTAP_CTR_##name,
  QTAP_COUNTERS(QTAP_COUNTER_ENUM)
#undef QTAP_COUNTER_ENUM
  QTAP_CTR__COUNT
};

/* Kernel-side filters (the "filter" array map, one element): which of the
 * filter maps apply. Set by userspace, changed on config reload. */
#define QTAP_FILTER_PID_INCLUDE (1u << 0)    /* only pids in pid_filter */
#define QTAP_FILTER_PID_EXCLUDE (1u << 1)    /* not pids in pid_exclude */
#define QTAP_FILTER_CGROUP_INCLUDE (1u << 2) /* only cgroups in cgroup_include */
#define QTAP_FILTER_CGROUP_EXCLUDE (1u << 3) /* not cgroups in cgroup_exclude */
#define QTAP_FILTER_PORTS (1u << 4)          /* drop connections by port (port_filter, QTAP_PORT_*) */
#define QTAP_FILTER_ONLY_LOCAL_PORTS (1u << 5)  /* keep only local ports marked QTAP_PORT_ONLY_LOCAL */
#define QTAP_FILTER_ONLY_REMOTE_PORTS (1u << 6) /* keep only remote ports marked QTAP_PORT_ONLY_REMOTE */
#define QTAP_FILTER_DROP_LOOPBACK (1u << 7)     /* drop connections to 127.0.0.0/8, ::1 */
#define QTAP_FILTER_ONLY_EGRESS (1u << 8)       /* drop accepted connections */
#define QTAP_FILTER_ONLY_INGRESS (1u << 9)      /* drop connected ones */

/* Values of the port_filter map (a bit set per port). */
#define QTAP_PORT_EXCLUDE_LOCAL (1u << 0)
#define QTAP_PORT_EXCLUDE_REMOTE (1u << 1)
#define QTAP_PORT_ONLY_LOCAL (1u << 2)
#define QTAP_PORT_ONLY_REMOTE (1u << 3)
struct qtap_filter {
  qtap_u32 flags;
  qtap_u32 _pad;
};

/* Key of the "tls_fds" map: a TLS session in a process. */
struct qtap_tls_key {
  qtap_u32 pid;
  qtap_u32 _pad;
  qtap_u64 session;
};

/* Key of the "conns" map: a socket fd in a process. */
struct qtap_fd_key {
  qtap_u32 pid;
  qtap_s32 fd;
};

#endif /* QTAP_ABI_H */
