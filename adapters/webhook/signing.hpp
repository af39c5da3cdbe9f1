#pragma once
// Standard Webhooks (v1) signatures for the webhook notification sink: the receiver checks
// webhook-signature = "v1," + base64(HMAC-SHA256(secret, id + "." + timestamp + "." + body)),
// rejects old timestamps, and drops a webhook-id it has seen (a retry reuses it). Pure; no
// I/O; safe from any thread.

#include <optional>
#include <string>
#include <string_view>

namespace alertbridge::webhook {

// The key bytes of a "whsec_<base64>" secret (the prefix is optional); nullopt when the
// rest is not base64 or is empty.
std::optional<std::string> decodeSigningSecret(std::string_view secret);

// "v1,<base64 signature>" of one request.
std::string signRequest(std::string_view key, std::string_view id, std::string_view timestamp,
                        std::string_view body);

// A message id that is the same for every attempt of one body: "msg_" and the first 16
// bytes of its SHA-256, in hex.
std::string messageId(std::string_view body);

}  // namespace alertbridge::webhook
