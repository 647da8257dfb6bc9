/* The C API from C: the header compiles as C, and a client fetches over HTTP from a
 * tiny local server (a socket answering one canned response), then reports stats. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/include/p2p_client.h"

static int listen_fd;

static void* serve_one(void* arg) {
  (void)arg;
  int fd = accept(listen_fd, NULL, NULL);
  if (fd < 0) return NULL;
  char buffer[4096];
  ssize_t n = recv(fd, buffer, sizeof buffer, 0);
  (void)n;
  const char* answer =
      "HTTP/1.1 200 OK\r\nContent-Type: video/mp2t\r\nContent-Length: 5\r\n"
      "Connection: close\r\n\r\nhello";
  ssize_t w = send(fd, answer, strlen(answer), 0);
  (void)w;
  close(fd);
  return NULL;
}

struct result {
  int done;
  int status;
  char body[16];
};

static void on_done(void* user, int status, const uint8_t* data, size_t size, int from_peers) {
  struct result* r = (struct result*)user;
  r->done = 1;
  r->status = status;
  if (size < sizeof r->body) memcpy(r->body, data, size);
  if (from_peers) r->status = -1;
}

int main(void) {
  listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address;
  memset(&address, 0, sizeof address);
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (bind(listen_fd, (struct sockaddr*)&address, sizeof address) != 0 ||
      listen(listen_fd, 4) != 0 ||
      getsockname(listen_fd, (struct sockaddr*)&address, &length) != 0) {
    perror("listen");
    return 1;
  }
  pthread_t thread;
  pthread_create(&thread, NULL, serve_one, NULL);

  p2p_client_config config;
  p2p_client_config_init(&config);
  config.p2p_enabled = 0;
  p2p_client* client = p2p_client_create(&config);
  if (!client) return 1;
  config.store_bytes = 10; /* refused */
  if (p2p_client_create(&config) != NULL) return 1;

  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/seg.ts", ntohs(address.sin_port));
  struct result r;
  memset(&r, 0, sizeof r);
  if (p2p_client_fetch(client, NULL, -1, -1, 0, on_done, &r) != 0) return 1;
  uint64_t id = p2p_client_fetch(client, url, -1, -1, 0, on_done, &r);
  if (id == 0) return 1;
  for (int i = 0; i < 500 && !r.done; ++i) p2p_client_process(client, 10);
  pthread_join(thread, NULL);
  close(listen_fd);
  if (!r.done || r.status != 200 || strcmp(r.body, "hello") != 0) {
    fprintf(stderr, "fetch: done %d status %d body %s\n", r.done, r.status, r.body);
    return 1;
  }
  p2p_client_stats stats;
  p2p_client_get_stats(client, &stats);
  if (stats.bytes_http != 5 || stats.bytes_p2p != 0) {
    fprintf(stderr, "stats: http %llu p2p %llu\n", (unsigned long long)stats.bytes_http,
            (unsigned long long)stats.bytes_p2p);
    return 1;
  }
  if (strcmp(p2p_client_session_state(client), "disabled") != 0) return 1;
  p2p_client_destroy(client);
  printf("c api: ok\n");
  return 0;
}
