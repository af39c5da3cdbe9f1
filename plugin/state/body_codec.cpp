#include "plugin/state/body_codec.hpp"

#include <zstd.h>

#include <memory>

namespace alertbridge::state {
namespace {

// Below this a body is stored as it is. A one-alert body (300 to 1,000 bytes) shrinks by
// a third at best, which saves less than a page of the log per group commit, and packing
// it took 4 us of an HTTP thread: 6 % of all CPU at one alert per request. Raising the
// floor from 256 bytes to 2 KiB gave 7 % more one-alert requests a second (README,
// "Benchmark"); a batch or an email is still packed.
constexpr std::size_t kMinPacked = 2048;
// A frame never claims more than this (the largest body intake accepts is far smaller);
// a claim above it is not one of ours.
constexpr unsigned long long kMaxUnpacked = 256ULL << 20;

struct CctxFree {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DctxFree {
    void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

bool isFrame(std::string_view s) {
    return s.size() >= 4 && static_cast<unsigned char>(s[0]) == 0x28 &&
           static_cast<unsigned char>(s[1]) == 0xB5 && static_cast<unsigned char>(s[2]) == 0x2F &&
           static_cast<unsigned char>(s[3]) == 0xFD;
}

}  // namespace

std::optional<std::string> packFrame(std::string_view raw) {
    // A raw body that happens to start like a frame is stored as a frame, so that reading
    // it back can never mistake it for one.
    if (raw.size() < kMinPacked && !isFrame(raw)) return std::nullopt;
    thread_local std::unique_ptr<ZSTD_CCtx, CctxFree> ctx(ZSTD_createCCtx());
    if (ctx == nullptr) return std::nullopt;
    std::string out(ZSTD_compressBound(raw.size()), '\0');
    std::size_t n = ZSTD_compressCCtx(ctx.get(), out.data(), out.size(), raw.data(), raw.size(), 1);
    if (ZSTD_isError(n)) return std::nullopt;
    if (!isFrame(raw) && n > raw.size() - raw.size() / 8) return std::nullopt;
    out.resize(n);
    return out;
}

std::string packBody(std::string_view raw) {
    auto frame = packFrame(raw);
    return frame ? std::move(*frame) : std::string(raw);
}

std::string unpackBody(std::string_view stored) {
    if (!isFrame(stored)) return std::string(stored);
    unsigned long long size = ZSTD_getFrameContentSize(stored.data(), stored.size());
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > kMaxUnpacked) {
        return std::string(stored);
    }
    thread_local std::unique_ptr<ZSTD_DCtx, DctxFree> ctx(ZSTD_createDCtx());
    std::string out(static_cast<std::size_t>(size), '\0');
    std::size_t n =
        ctx ? ZSTD_decompressDCtx(ctx.get(), out.data(), out.size(), stored.data(), stored.size())
            : 0;
    if (ctx == nullptr || ZSTD_isError(n) || n != size) return std::string(stored);
    return out;
}

}  // namespace alertbridge::state
