/* A small libcurl client for the end-to-end tests, built against the curl
 * headers and linked to a chosen libcurl flavour (libcurl-gnutls.so.4,
 * libcurl-nss.so.4) so the TLS library under test is the one in use.
 *   curl_client URL CAFILE|insecure [HEADER [POSTDATA]]  */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

static size_t sink(char *ptr, size_t size, size_t n, void *ud) {
  fwrite(ptr, size, n, stdout);
  return size * n;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s URL CAFILE|insecure [HEADER [POSTDATA]]\n", argv[0]);
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURL *c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, argv[1]);
  if (strcmp(argv[2], "insecure") == 0) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  } else {
    curl_easy_setopt(c, CURLOPT_CAINFO, argv[2]);
  }
  struct curl_slist *headers = NULL;
  if (argc > 3) headers = curl_slist_append(headers, argv[3]);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  if (argc > 4) curl_easy_setopt(c, CURLOPT_POSTFIELDS, argv[4]);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) fprintf(stderr, "curl: %s\n", curl_easy_strerror(rc));
  fprintf(stderr, "ssl: %s\n", curl_version_info(CURLVERSION_NOW)->ssl_version);
  curl_slist_free_all(headers);
  curl_easy_cleanup(c);
  curl_global_cleanup();
  return rc == CURLE_OK ? 0 : 1;
}
