#include "protocols/http2/hpack_decoder.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <new>

namespace qtap::http2 {

namespace {

constexpr size_t kInitialTableSize = 4096;

nghttp2_hd_inflater* new_inflater() {
  nghttp2_hd_inflater* p = nullptr;
  if (nghttp2_hd_inflate_new(&p) != 0) throw std::bad_alloc();
  return p;
}

}  // namespace

HpackDecoder::HpackDecoder() : inflater_(new_inflater()) {}

HpackDecoder::~HpackDecoder() { nghttp2_hd_inflate_del(inflater_); }

bool HpackDecoder::feed(std::string_view fragment, bool last, FieldSink& sink) {
  if (broken_) return false;
  in_block_ = true;
  const auto* in = reinterpret_cast<const uint8_t*>(fragment.data());
  size_t left = fragment.size();
  for (;;) {
    nghttp2_nv nv;
    int flags = 0;
    const ssize_t rv = nghttp2_hd_inflate_hd2(inflater_, &nv, &flags, in, left, last ? 1 : 0);
    if (rv < 0) {
      broken_ = true;
      in_block_ = false;
      return false;
    }
    in += rv;
    left -= static_cast<size_t>(rv);
    if ((flags & NGHTTP2_HD_INFLATE_EMIT) != 0) {
      sink.on_field({reinterpret_cast<const char*>(nv.name), nv.namelen},
                    {reinterpret_cast<const char*>(nv.value), nv.valuelen});
    }
    if ((flags & NGHTTP2_HD_INFLATE_FINAL) != 0) {
      nghttp2_hd_inflate_end_headers(inflater_);
      in_block_ = false;
      if (limit_pending_) apply_limit();
      return true;
    }
    if ((flags & NGHTTP2_HD_INFLATE_EMIT) == 0 && left == 0) {
      if (last) {  // the block ended inside a field
        broken_ = true;
        in_block_ = false;
        return false;
      }
      return true;
    }
  }
}

void HpackDecoder::reset(size_t table_limit) {
  nghttp2_hd_inflater* fresh = new_inflater();
  nghttp2_hd_inflate_del(inflater_);
  inflater_ = fresh;
  broken_ = false;
  in_block_ = false;
  // Never below the initial 4096: lowering would make the inflater demand a size update the
  // encoder sent long ago. A larger table than the encoder's only keeps entries it no longer
  // references.
  limit_ = std::max<size_t>(table_limit, kInitialTableSize);
  apply_limit();
}

void HpackDecoder::set_table_limit(size_t limit) {
  limit_ = limit;
  if (in_block_) {
    limit_pending_ = true;  // nghttp2 refuses a change inside a block
  } else {
    apply_limit();
  }
}

void HpackDecoder::apply_limit() {
  limit_pending_ = false;
  // Lowering the limit makes the inflater require a size update at the start of the next
  // block, which is what RFC 7541 section 4.2 asks of the encoder.
  nghttp2_hd_inflate_change_table_size(inflater_, limit_);
}

size_t HpackDecoder::table_size() const {
  return nghttp2_hd_inflate_get_dynamic_table_size(inflater_);
}

size_t HpackDecoder::table_entries() const {
  return nghttp2_hd_inflate_get_num_table_entries(inflater_) - 61;  // minus the static table
}

}  // namespace qtap::http2
