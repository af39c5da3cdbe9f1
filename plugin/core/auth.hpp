#pragma once
// HTTP credentials: building Authorization header values and checking them without
// leaking timing. Pure; safe from any thread.

#include <string>
#include <string_view>

namespace alertbridge::core {

std::string basicAuthHeader(std::string_view username, std::string_view password);
std::string bearerAuthHeader(std::string_view token);
bool constantTimeEquals(std::string_view a, std::string_view b);

}  // namespace alertbridge::core
