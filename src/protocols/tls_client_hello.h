// The server name (SNI) a TLS client asks for, read from its ClientHello as
// it crosses the socket, before any key exists (RFC 8446 4.1.2, RFC 6066 3).
// The plaintext comes from the library probes; this is what names the
// destination of a TLS connection even when no HTTP Host is ever seen.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace qtap {

enum class SniResult { kFound, kNone, kNeedMore, kNotClientHello };

// Looks at the first bytes a TLS client sent. kNeedMore: a ClientHello that
// does not fit in `bytes` yet (give more, up to its record length); kNone: a
// ClientHello without a host_name entry.
SniResult parse_client_hello_sni(std::string_view bytes, std::string& sni);

}  // namespace qtap
