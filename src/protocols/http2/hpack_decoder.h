// One direction's HPACK decoder (RFC 7541): libnghttp2's inflater, owned, fed header block
// fragments as the frames deliver them.
#pragma once

#include <cstddef>
#include <string_view>

struct nghttp2_hd_inflater;

namespace qtap::http2 {

class HpackDecoder {
 public:
  class FieldSink {
   public:
    virtual ~FieldSink() = default;
    // Views valid only during the call.
    virtual void on_field(std::string_view name, std::string_view value) = 0;
  };

  HpackDecoder();  // throws std::bad_alloc
  ~HpackDecoder();
  HpackDecoder(const HpackDecoder&) = delete;
  HpackDecoder& operator=(const HpackDecoder&) = delete;

  // Part of a header block; `last` on its final piece (which may be empty). False if the
  // block cannot be decoded: a reference to a dynamic table entry this decoder never saw
  // (capture started mid-connection, bytes missed), or invalid bytes. The decoder is then
  // unusable until reset().
  bool feed(std::string_view fragment, bool last, FieldSink& sink);
  // Between blocks: a fragment of a block was fed and the rest will not be.
  bool in_block() const { return in_block_; }

  // A fresh decoder with an empty dynamic table. Decoding stays correct-or-failing from
  // there: entries inserted after the reset are the newest ones of the encoder's table too,
  // so an index that resolves here resolves to the same field there; older entries are
  // missing and referencing them fails. `table_limit` bounds the size updates accepted.
  void reset(size_t table_limit);

  // SETTINGS_HEADER_TABLE_SIZE acknowledged for this direction (RFC 7541 section 4.2): the
  // encoder must shrink its table to it. Applied at the next block boundary if a block is
  // being decoded.
  void set_table_limit(size_t limit);
  size_t table_limit() const { return limit_; }

  // Current dynamic table size (RFC 7541 section 4.1 accounting) and entries; for tests.
  size_t table_size() const;
  size_t table_entries() const;

 private:
  void apply_limit();

  nghttp2_hd_inflater* inflater_ = nullptr;
  bool in_block_ = false;
  bool broken_ = false;
  size_t limit_ = 4096;  // RFC 7541's initial SETTINGS_HEADER_TABLE_SIZE
  bool limit_pending_ = false;
};

}  // namespace qtap::http2
