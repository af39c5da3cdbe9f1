#include "adapters/webhook/signing.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <fmt/format.h>

namespace alertbridge::webhook {

std::optional<std::string> decodeSigningSecret(std::string_view secret) {
    if (secret.starts_with("whsec_")) secret.remove_prefix(6);
    if (secret.empty() || secret.size() % 4 != 0) return std::nullopt;
    std::string out(secret.size() / 4 * 3, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(secret.data()),
                            static_cast<int>(secret.size()));
    if (n < 0) return std::nullopt;
    // EVP_DecodeBlock counts the padding as zero bytes: take them off.
    std::size_t len = static_cast<std::size_t>(n);
    for (std::size_t i = secret.size(); i > 0 && secret[i - 1] == '=' && len > 0; --i) --len;
    out.resize(len);
    if (out.empty()) return std::nullopt;
    return out;
}

std::string signRequest(std::string_view key, std::string_view id, std::string_view timestamp,
                        std::string_view body) {
    std::string msg;
    msg.reserve(id.size() + timestamp.size() + body.size() + 2);
    msg.append(id).append(".").append(timestamp).append(".").append(body);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac, &mac_len);
    std::string b64(std::size_t{4} * ((std::size_t{mac_len} + 2) / 3), '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), mac,
                            static_cast<int>(mac_len));
    b64.resize(static_cast<std::size_t>(n));
    return "v1," + b64;
}

std::string messageId(std::string_view body) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest);
    std::string out = "msg_";
    for (int i = 0; i < 16; ++i) out += fmt::format("{:02x}", digest[i]);
    return out;
}

}  // namespace alertbridge::webhook
