#include "output/records.h"

#include "output/request_url.h"

namespace qtap {

FindingRecord make_finding_record(const HttpRecord& rec, const Finding& finding) {
  FindingRecord f;
  f.time_unix_ns = rec.time_unix_ns;
  f.process = rec.process;
  f.hostname = rec.hostname;
  f.connection = rec.connection;
  f.finding = finding;
  if (rec.http.request) {
    f.method = rec.http.request->method;
    f.url = RequestUrl(*rec.http.request, rec.connection).url();
  }
  if (rec.http.response) f.status = rec.http.response->status;
  return f;
}

}  // namespace qtap
