// One line of text per kernel event, for `qtap replay --events`: what the
// kernel side reported, before any tracking or parsing. For debugging the
// agent and for seeing how a program drives its sockets and TLS library.
#pragma once

#include <string>

#include "events/events.h"

namespace qtap::events {

// `payload_bytes`: how much of a data event's payload to show (escaped).
std::string to_text(const Event& ev, size_t payload_bytes = 48);

}  // namespace qtap::events
