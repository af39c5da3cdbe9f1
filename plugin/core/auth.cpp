#include "plugin/core/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <vector>

namespace alertbridge::core {

std::string basicAuthHeader(std::string_view username, std::string_view password) {
    std::string plain = std::string(username) + ":" + std::string(password);
    std::vector<unsigned char> out(4 * ((plain.size() + 2) / 3) + 1);
    int n = EVP_EncodeBlock(out.data(), reinterpret_cast<const unsigned char*>(plain.data()),
                            static_cast<int>(plain.size()));
    return "Basic " +
           std::string(reinterpret_cast<const char*>(out.data()), static_cast<size_t>(n));
}

std::string bearerAuthHeader(std::string_view token) { return "Bearer " + std::string(token); }

bool constantTimeEquals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace alertbridge::core
