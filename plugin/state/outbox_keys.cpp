#include <cstring>

#include "plugin/state/store.hpp"

namespace alertbridge::state {
namespace {

constexpr std::size_t kKeyBytes = 16;

void putLe(std::string& out, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t getLe(const char* p, int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) {
        v |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
    }
    return v;
}

}  // namespace

std::string encodeOutboxKeys(const std::vector<OutboxKey>& keys) {
    std::string out;
    out.reserve(keys.size() * kKeyBytes);
    for (const auto& k : keys) {
        putLe(out, k.key, 8);
        putLe(out, k.begin, 4);
        putLe(out, k.end, 4);
    }
    return out;
}

std::vector<OutboxKey> decodeOutboxKeys(std::string_view blob, std::size_t body_size) {
    std::vector<OutboxKey> keys;
    if (blob.size() % kKeyBytes != 0) return keys;
    keys.reserve(blob.size() / kKeyBytes);
    std::uint32_t last_end = 0;
    for (std::size_t i = 0; i < blob.size(); i += kKeyBytes) {
        OutboxKey k;
        k.key = getLe(blob.data() + i, 8);
        k.begin = static_cast<std::uint32_t>(getLe(blob.data() + i + 8, 4));
        k.end = static_cast<std::uint32_t>(getLe(blob.data() + i + 12, 4));
        if (k.begin < last_end || k.end < k.begin || k.end > body_size) return {};
        last_end = k.end;
        keys.push_back(k);
    }
    return keys;
}

}  // namespace alertbridge::state
