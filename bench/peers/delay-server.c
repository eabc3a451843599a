// The accuracy benchmark's server, in C: answers every request exactly DELAY_MS (default 50)
// after its bytes arrived, on keep-alive HTTP/1.1 connections, one thread, epoll.
//
// Why C: the Node server (delay-server.mjs, still the fallback) has GC pauses and event-loop lag,
// and its own measure put its p99 at 52-54 ms: it did not answer "after exactly 50 ms".
//
// - "Arrived" is the kernel's receive timestamp of the request's last bytes (SO_TIMESTAMPNS),
//   so a read that comes late does not make the answer late. Without one, the time of the read.
// - The answer is written at arrival + delay on CLOCK_MONOTONIC. Within SPIN_US of the earliest
//   due time the loop polls (epoll with a zero timeout, reading whatever arrives meanwhile)
//   instead of sleeping; further off, a timerfd (timer slack 1 ns) wakes it SPIN_US early.
//   SPIN_US defaults to the whole delay: the server burns its core while any answer is pending.
//   Why: on a VM an idle vCPU is slow to wake. Here, sleeping until 300 us before each due time
//   left answers late by 3.1 ms at p99 (10 ms at most); polling, by 0.1-0.2 ms.
// - It measures itself: delay = write() returned - arrival, per request (1 us bins up to 200 ms),
//   how late each write was against its due time, and how long after arriving each request was
//   read. Its memory is locked (mlockall): no page of it is reclaimed and faulted back meanwhile.
//
// GET /stats answers at once with those figures as JSON; GET /reset starts counting afresh.
// Neither counts as a request. Prints its port on stdout, listens on 127.0.0.1 only.
//
// Usage: delay-server [DELAY_MS] [SPIN_US] [stamps]
//   stamps: each answer carries x-arrived-ns and x-sent-ns, CLOCK_MONOTONIC nanoseconds (the clock
//   process.hrtime.bigint() reads), for a client to tell its own share of a hit's time.
// Build: cc -O2 -o delay-server delay-server.c     (Linux: epoll, timerfd)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define BODY "<!doctype html><title>loads-bench-ok</title>\n"
#define IN_CAP 16384
/* Delays in 1 us bins up to 200 ms, then 1 ms bins up to 60 s (the max stays exact). */
#define FINE_US 200000
#define BINS (FINE_US + 60000)

typedef struct {
  uint32_t *bins;
  uint64_t count, sum_us, max_us, min_us;
} hist_t;

typedef struct conn {
  int fd;
  uint32_t gen;
  char in[IN_CAP];
  size_t in_len;
  size_t skip_body;   /* body bytes of the current request still to come */
  int head_done;      /* the current request's head is parsed, its body is being skipped */
  int cur_kind;       /* 0: delayed request, 1: /stats, 2: /reset */
  int cur_close;
  char *out;
  size_t out_len, out_off, out_cap;
  int pending;        /* queued answers not yet written */
  int64_t last_due_ns; /* due time of the last answer queued */
  int close_after;    /* close once every queued answer is written */
  int want_out;
} conn_t;

typedef struct {
  int fd;
  uint32_t gen;
  int kind;
  int close;
  int64_t arrival_ns, due_ns;
  uint64_t seq;
} job_t;

static int64_t delay_ns;
static int64_t spin_ns;
static int ep, tfd, lfd;
static conn_t **conns;
static int conns_cap;
static uint32_t next_gen = 1;
static job_t *queue;
static size_t q_cap = 1024, q_len;
static uint64_t next_seq;
static int64_t armed_for = -1;
static hist_t h_delay, h_late, h_read_lag;
static uint64_t requests;
static int have_rx_stamps;
static int stamps; /* "stamps": answers carry x-arrived-ns and x-sent-ns (CLOCK_MONOTONIC) */

static int64_t mono_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int64_t real_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void hist_reset(hist_t *h) {
  memset(h->bins, 0, BINS * sizeof(uint32_t));
  h->count = h->sum_us = h->max_us = 0;
  h->min_us = UINT64_MAX;
}

static void hist_init(hist_t *h) {
  h->bins = malloc(BINS * sizeof(uint32_t));
  if (h->bins == NULL) { perror("malloc"); exit(1); }
  hist_reset(h); /* touches every page now: no page fault while answering */
}

static uint64_t bin_of(uint64_t us) {
  if (us < FINE_US) return us;
  uint64_t i = FINE_US + (us - FINE_US) / 1000;
  return i < BINS ? i : BINS - 1;
}

/* The highest value (us) a bin holds. */
static double bin_top(uint64_t i) {
  return i < FINE_US ? (double)i : (double)(FINE_US + (i - FINE_US) * 1000 + 999);
}

static void hist_record(hist_t *h, int64_t ns) {
  uint64_t us = ns <= 0 ? 0 : (uint64_t)((ns + 500) / 1000);
  h->bins[bin_of(us)]++;
  h->count++;
  h->sum_us += us;
  if (us > h->max_us) h->max_us = us;
  if (us < h->min_us) h->min_us = us;
}

/* The smallest value (us) with at least pct% of the values at or below it (HdrHistogram's way). */
static double hist_pct(const hist_t *h, double pct) {
  if (h->count == 0) return 0;
  uint64_t want = (uint64_t)((pct / 100.0) * (double)h->count + 0.5);
  if (want < 1) want = 1;
  uint64_t seen = 0;
  for (uint64_t i = 0; i < BINS; i++) {
    seen += h->bins[i];
    if (seen >= want) {
      double top = bin_top(i);
      return top < (double)h->max_us ? top : (double)h->max_us;
    }
  }
  return (double)h->max_us;
}

static void ep_ctl(int op, int fd, uint32_t events) {
  struct epoll_event ev = { .events = events, .data.fd = fd };
  if (epoll_ctl(ep, op, fd, &ev) != 0 && op != EPOLL_CTL_DEL) { perror("epoll_ctl"); exit(1); }
}

static void close_conn(conn_t *c) {
  ep_ctl(EPOLL_CTL_DEL, c->fd, 0);
  close(c->fd);
  conns[c->fd] = NULL;
  free(c->out);
  free(c);
}

static void arm(void) {
  int64_t when = q_len == 0 ? 0 : queue[0].due_ns - spin_ns;
  if (when == armed_for) return;
  armed_for = when;
  struct itimerspec its = { 0 };
  if (when > 0) {
    its.it_value.tv_sec = when / 1000000000;
    its.it_value.tv_nsec = when % 1000000000;
  }
  timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* A binary heap on (due, seq): kernel stamps may order two reads' arrivals the other way round. */
static int job_before(const job_t *a, const job_t *b) {
  return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->seq < b->seq);
}

static void push(job_t j) {
  if (q_len == q_cap) {
    q_cap *= 2;
    queue = realloc(queue, q_cap * sizeof(job_t));
  }
  j.seq = next_seq++;
  size_t i = q_len++;
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!job_before(&j, &queue[parent])) break;
    queue[i] = queue[parent];
    i = parent;
  }
  queue[i] = j;
}

static job_t pop(void) {
  job_t top = queue[0];
  job_t last = queue[--q_len];
  size_t i = 0;
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= q_len) break;
    if (child + 1 < q_len && job_before(&queue[child + 1], &queue[child])) child++;
    if (!job_before(&queue[child], &last)) break;
    queue[i] = queue[child];
    i = child;
  }
  if (q_len > 0) queue[i] = last;
  return top;
}

static int flush_out(conn_t *c) {
  while (c->out_off < c->out_len) {
    ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
    if (n > 0) { c->out_off += (size_t)n; continue; }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!c->want_out) { ep_ctl(EPOLL_CTL_MOD, c->fd, EPOLLIN | EPOLLOUT); c->want_out = 1; }
      return 0;
    }
    return -1;
  }
  c->out_len = c->out_off = 0;
  if (c->want_out) { ep_ctl(EPOLL_CTL_MOD, c->fd, EPOLLIN); c->want_out = 0; }
  if (c->close_after && c->pending == 0) return -1;
  return 0;
}

static void append_out(conn_t *c, const char *data, size_t len) {
  if (c->out_len + len > c->out_cap) {
    size_t cap = c->out_cap == 0 ? 4096 : c->out_cap;
    while (cap < c->out_len + len) cap *= 2;
    c->out = realloc(c->out, cap);
    c->out_cap = cap;
  }
  memcpy(c->out + c->out_len, data, len);
  c->out_len += len;
}

/* Writes the answer to `j`; returns 1 when the connection is gone afterwards. */
static int answer(conn_t *c, const job_t *j) {
  char buf[1024];
  int n;
  if (j->kind == 1) {
    char body[768];
    int b = snprintf(body, sizeof body,
                     "{\"requests\":%llu,\"p50Ms\":%.3f,\"p99Ms\":%.3f,\"p999Ms\":%.3f,\"maxMs\":%.3f,\"minMs\":%.3f,"
                     "\"meanMs\":%.4f,\"lateUs\":{\"p50\":%.0f,\"p99\":%.0f,\"max\":%llu},"
                     "\"readLagUs\":{\"p50\":%.0f,\"p99\":%.0f,\"max\":%llu,\"kernelStamps\":%s},\"server\":\"c\"}",
                     (unsigned long long)requests, hist_pct(&h_delay, 50) / 1000, hist_pct(&h_delay, 99) / 1000,
                     hist_pct(&h_delay, 99.9) / 1000, (double)h_delay.max_us / 1000,
                     h_delay.count == 0 ? 0.0 : (double)h_delay.min_us / 1000,
                     h_delay.count == 0 ? 0.0 : (double)h_delay.sum_us / (double)h_delay.count / 1000,
                     hist_pct(&h_late, 50), hist_pct(&h_late, 99), (unsigned long long)h_late.max_us,
                     hist_pct(&h_read_lag, 50), hist_pct(&h_read_lag, 99), (unsigned long long)h_read_lag.max_us,
                     have_rx_stamps ? "true" : "false");
    n = snprintf(buf, sizeof buf, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s", b, body);
  } else if (j->kind == 2) {
    n = snprintf(buf, sizeof buf, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}");
  } else if (stamps) {
    n = snprintf(buf, sizeof buf, "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: %d\r\nx-arrived-ns: %lld\r\nx-sent-ns: %lld\r\n\r\n%s",
                 (int)(sizeof BODY - 1), (long long)j->arrival_ns, (long long)mono_ns(), BODY);
  } else {
    n = snprintf(buf, sizeof buf, "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: %d\r\n\r\n%s", (int)(sizeof BODY - 1), BODY);
  }
  append_out(c, buf, (size_t)n);
  c->pending--;
  if (j->close) c->close_after = 1;
  int failed = flush_out(c) != 0;
  if (j->kind == 0) {
    int64_t done = mono_ns();
    hist_record(&h_delay, done - j->arrival_ns);
    hist_record(&h_late, done - j->due_ns);
  }
  if (j->kind == 2) {
    hist_reset(&h_delay);
    hist_reset(&h_late);
    hist_reset(&h_read_lag);
    requests = 0;
  }
  if (failed) close_conn(c);
  return failed;
}

static void run_due(void) {
  while (q_len > 0) {
    if (queue[0].due_ns > mono_ns()) break;
    job_t job = pop();
    conn_t *c = job.fd < conns_cap ? conns[job.fd] : NULL;
    if (c != NULL && c->gen == job.gen) answer(c, &job);
  }
}

static int header_is(const char *line, size_t len, const char *name) {
  size_t n = strlen(name);
  return len > n && line[n] == ':' && strncasecmp(line, name, n) == 0;
}

static int value_has(const char *v, size_t len, const char *token) {
  size_t n = strlen(token);
  for (size_t i = 0; i + n <= len; i++)
    if (strncasecmp(v + i, token, n) == 0) return 1;
  return 0;
}

/* Parses complete requests from c->in and queues their answers. Returns -1 to drop the
   connection, 1 when an answer already closed it. */
static int parse(conn_t *c, int64_t arrival) {
  size_t off = 0;
  for (;;) {
    if (c->head_done) {
      size_t have = c->in_len - off;
      size_t take = have < c->skip_body ? have : c->skip_body;
      off += take;
      c->skip_body -= take;
      if (c->skip_body > 0) break;
      c->head_done = 0;
      job_t j = { c->fd, c->gen, c->cur_kind, c->cur_close, arrival, arrival + delay_ns, 0 };
      c->pending++;
      if (j.kind == 0) {
        requests++;
        push(j);
      } else if (c->pending == 1) {
        /* /stats and /reset: answered at once. */
        size_t rest = c->in_len - off;
        memmove(c->in, c->in + off, rest);
        c->in_len = rest;
        off = 0;
        if (answer(c, &j)) return 1;
      } else {
        /* Earlier answers on this connection still wait: this one goes out right after them. */
        j.due_ns = c->last_due_ns;
        push(j);
      }
      if (j.kind == 0) c->last_due_ns = j.due_ns;
      continue;
    }
    char *start = c->in + off;
    size_t avail = c->in_len - off;
    char *end = avail >= 4 ? memmem(start, avail, "\r\n\r\n", 4) : NULL;
    if (end == NULL) break;
    size_t head_len = (size_t)(end - start) + 4;
    char *sp1 = memchr(start, ' ', head_len);
    if (sp1 == NULL) return -1;
    char *path = sp1 + 1;
    char *sp2 = memchr(path, ' ', (size_t)(end - path));
    if (sp2 == NULL) return -1;
    size_t path_len = (size_t)(sp2 - path);
    int http10 = (size_t)(end - sp2) >= 9 && strncmp(sp2 + 1, "HTTP/1.0", 8) == 0;
    c->cur_kind = (path_len == 6 && memcmp(path, "/stats", 6) == 0) ? 1 : (path_len == 6 && memcmp(path, "/reset", 6) == 0) ? 2 : 0;
    c->cur_close = http10;
    size_t body = 0;
    char *line = memchr(start, '\n', head_len);
    while (line != NULL && line + 1 < end) {
      line++;
      char *eol = memchr(line, '\r', (size_t)(end + 2 - line));
      size_t len = (size_t)(eol - line);
      if (header_is(line, len, "content-length")) body = strtoull(line + 15, NULL, 10);
      else if (header_is(line, len, "connection")) {
        if (value_has(line + 11, len - 11, "close")) c->cur_close = 1;
        else if (value_has(line + 11, len - 11, "keep-alive")) c->cur_close = 0;
      }
      line = memchr(eol, '\n', (size_t)(end + 4 - eol));
    }
    off += head_len;
    c->head_done = 1;
    c->skip_body = body;
  }
  if (off > 0) {
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
  }
  if (c->in_len == IN_CAP) return -1; /* a head larger than the buffer */
  return 0;
}

static void on_readable(conn_t *c) {
  for (;;) {
    char ctrl[CMSG_SPACE(sizeof(struct timespec))];
    struct iovec iov = { c->in + c->in_len, IN_CAP - c->in_len };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl, .msg_controllen = sizeof ctrl };
    ssize_t n = recvmsg(c->fd, &msg, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) { close_conn(c); return; }
    int64_t now = mono_ns();
    int64_t arrival = now;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
      if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
        struct timespec ts;
        memcpy(&ts, CMSG_DATA(cm), sizeof ts);
        int64_t rx_real = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
        int64_t lag = real_ns() - rx_real;
        /* A stamp from the future, or from long ago, is not one to trust. */
        if (rx_real != 0 && lag >= 0 && lag < 1000000000) {
          arrival = now - lag;
          have_rx_stamps = 1;
        }
      }
    }
    hist_record(&h_read_lag, now - arrival);
    c->in_len += (size_t)n;
    int parsed = parse(c, arrival);
    if (parsed == 1) return;
    if (parsed != 0) { close_conn(c); return; }
  }
}

static void on_accept(void) {
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    if (fd >= conns_cap) {
      int cap = conns_cap;
      while (cap <= fd) cap *= 2;
      conns = realloc(conns, (size_t)cap * sizeof(conn_t *));
      memset(conns + conns_cap, 0, (size_t)(cap - conns_cap) * sizeof(conn_t *));
      conns_cap = cap;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    conn_t *c = calloc(1, sizeof(conn_t));
    c->fd = fd;
    c->gen = next_gen++;
    conns[fd] = c;
    ep_ctl(EPOLL_CTL_ADD, fd, EPOLLIN);
  }
}

static void on_term(int sig) {
  (void)sig;
  _exit(0);
}

int main(int argc, char **argv) {
  delay_ns = (int64_t)((argc > 1 ? atof(argv[1]) : 50.0) * 1e6);
  spin_ns = argc > 2 ? (int64_t)(atof(argv[2]) * 1e3) : delay_ns;
  stamps = argc > 3 && strcmp(argv[3], "stamps") == 0;
  signal(SIGTERM, on_term);
  signal(SIGINT, on_term);
  signal(SIGPIPE, SIG_IGN);
  /* Timers fire when asked, not up to 50 us later. */
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  /* Kept in RAM: no page of the server is reclaimed and faulted back in while it answers. */
  mlockall(MCL_CURRENT | MCL_FUTURE);
  hist_init(&h_delay);
  hist_init(&h_late);
  hist_init(&h_read_lag);
  queue = malloc(q_cap * sizeof(job_t));
  conns_cap = 1024;
  conns = calloc((size_t)conns_cap, sizeof(conn_t *));

  lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  /* Receive timestamps on from the start: requests queued before accept() carry one too. */
  setsockopt(lfd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0 };
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lfd, 4096) != 0) { perror("listen"); return 1; }
  socklen_t alen = sizeof addr;
  getsockname(lfd, (struct sockaddr *)&addr, &alen);

  ep = epoll_create1(EPOLL_CLOEXEC);
  tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  ep_ctl(EPOLL_CTL_ADD, lfd, EPOLLIN);
  ep_ctl(EPOLL_CTL_ADD, tfd, EPOLLIN);

  printf("%d\n", ntohs(addr.sin_port));
  fflush(stdout);

  struct epoll_event events[256];
  for (;;) {
    /* Close to the next due time: poll without sleeping, so the answer leaves on time. */
    int spinning = q_len > 0 && queue[0].due_ns - mono_ns() <= spin_ns;
    if (!spinning) arm();
    int n = epoll_wait(ep, events, 256, spinning ? 0 : -1);
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (fd == lfd) on_accept();
      else if (fd == tfd) {
        uint64_t expirations;
        (void)!read(tfd, &expirations, sizeof expirations);
        armed_for = -1;
      } else {
        conn_t *c = fd < conns_cap ? conns[fd] : NULL;
        if (c == NULL) continue;
        if (events[i].events & EPOLLOUT) {
          if (flush_out(c) != 0) { close_conn(c); continue; }
        }
        if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(c);
      }
    }
    run_due();
  }
}
