// A strict, bounded parser for the usual shape of a `peers` body, so the hot path
// does not build a jansson tree per call (that was a third of a call's instructions).
//
// It accepts only a subset of JSON whose meaning needs no general parser: one flat
// object; member names and string values of printable ASCII without escapes; values
// that are such strings, integers (no sign, fraction, exponent or leading zero, at
// most 18 digits), true, false or null. And it accepts only requests that
// parse_peers_request would accept, with the same values. Anything else, every
// invalid request included, returns false and the caller parses with
// parse_peers_request, so error answers stay exactly the jansson path's.
#pragma once

#include <string_view>

#include "tracker/json_limits.h"
#include "tracker/tracker_api.h"

namespace p2p {

// True: `*out` holds what parse_peers_request would produce for `body`. False:
// unusual or invalid, `*out` is unspecified; use parse_peers_request.
bool parse_peers_request_fast(std::string_view body, const json_caps& caps, peers_request* out);

}  // namespace p2p
