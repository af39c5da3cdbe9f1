#pragma once
// How the store keeps large bodies (journal entries) on disk: as a zstd frame when that
// saves at least an eighth, else as given. A batch of 100 alerts (about 40 KB of JSON) is
// 2-3 KB as a frame, and the store's commits are bound by the bytes they write; a single
// alert barely shrinks and stays as it is. Rows written before frames existed read as they
// are. Internal to plugin/state.

#include <optional>
#include <string>
#include <string_view>

namespace alertbridge::state {

// The frame to store for `raw`, or nothing when `raw` is stored as given (no copy made).
std::optional<std::string> packFrame(std::string_view raw);
// What to store for `raw`: packFrame's frame, or `raw` itself.
std::string packBody(std::string_view raw);

// The body as it was given. A stored value that is not a zstd frame, or not a whole and
// sound one, is returned as it is: it was stored raw.
std::string unpackBody(std::string_view stored);

}  // namespace alertbridge::state
