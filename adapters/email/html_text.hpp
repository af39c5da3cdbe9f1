#pragma once
// HTML mail read with libxml2's HTML parser (forgiving, as mail clients are): the readable
// text rule packs search, and the key/value pairs the markup gives by structure:
//   <tr><th>key</th><td>value</td></tr>, <tr><td>key</td><td>value</td></tr> (also
//   key/value/key/value rows), a header row of <th> over rows of <td>, <dt>key</dt><dd>value</dd>;
// lines of text outside tables ("主机：db-01<br>") are read as mail_pairs.hpp reads text.
// Text: script and style dropped, block elements and rows end lines, cells are separated by
// " | ", entities decoded, no-break spaces are spaces. Input is UTF-8. Safe from any thread.

#include <string>
#include <string_view>

#include "adapters/email/mail_pairs.hpp"

namespace alertbridge::email {

// The text of `html`; its pairs are added to `pairs` when given.
std::string readHtml(std::string_view html, MailPairs* pairs);

inline std::string htmlToText(std::string_view html) { return readHtml(html, nullptr); }

}  // namespace alertbridge::email
