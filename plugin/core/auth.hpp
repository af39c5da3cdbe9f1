#pragma once
// HTTP credentials: building Authorization header values and checking them without
// leaking timing. Pure; safe from any thread.

#include <optional>
#include <string>
#include <string_view>

namespace alertbridge::core {

std::string basicAuthHeader(std::string_view username, std::string_view password);
std::string bearerAuthHeader(std::string_view token);
bool constantTimeEquals(std::string_view a, std::string_view b);

std::string base64Encode(std::string_view data);
// Standard alphabet with padding, as SMTP AUTH and HTTP Basic use it; nullopt if malformed.
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace alertbridge::core
