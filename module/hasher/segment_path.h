// Where a media item a manifest names lives on this origin: the item's URI resolved
// against the manifest's path (RFC 3986 5.2, same origin only), percent-decoded,
// with dot segments removed. The result is what the glue maps through root/alias, so
// it must never climb above the document root or carry a NUL byte.
#pragma once

#include <string>
#include <string_view>

namespace p2p {

// Returns "" when the item is not a local file of this origin: another scheme or
// host, an empty path, a bad or NUL percent-escape, or dot segments that would leave
// the root. Otherwise an absolute path ("/a/b.ts") with no ".", ".." or empty segment.
std::string resolve_segment_path(std::string_view manifest_path, std::string_view item_uri);

}  // namespace p2p
