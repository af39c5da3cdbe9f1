#pragma once
// The key/value pairs of one message, found once whatever the layout the vendor chose, so
// that a rule pack asks for a field by the names a vendor gives it ("Host", "主机", "设备名称")
// instead of by one layout's regex. Text lines are read as
//   key: value     key：value (full-width colon)     key=value (also several on one line)
//   【key】value    key<TAB>value
// after list markers ("- ", "* ", "1. ", "1、"), and HTML gives its own pairs by structure
// (html_text.hpp: th/td and two-column td rows, header-row tables, definition lists).
// Keys are compared normalised (normalizeKey). Pure; safe from any thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace alertbridge::email {

enum class Layout : std::uint8_t {
    kColon,        // key: value
    kWideColon,    // key：value
    kEquals,       // key=value
    kBracket,      // 【key】value
    kTab,          // key<TAB>value
    kTableHeader,  // <tr><th>key</th><td>value</td></tr>
    kTableRow,     // <tr><td>key</td><td>value</td></tr>
    kTableColumn,  // a header row of <th> over a row of <td>
    kDefinition,   // <dt>key</dt><dd>value</dd>
};

// How email-test names a layout: "key: value", "th/td row", ...
std::string_view layoutName(Layout layout);

struct Pair {
    std::string key;    // as written, trimmed
    std::string value;  // trimmed; may be empty ("恢复时间：" with nothing after it)
    Layout layout = Layout::kColon;
    int line = 0;  // 1-based line of the text it came from; 0 for HTML structure
};

// The form keys are compared in: ASCII letters in lower case; spaces (also no-break and
// ideographic), '_', '-', '.' and a trailing colon dropped; a trailing parenthesised part
// dropped ("开始时间（北京时间）" is "开始时间"). "Event Time", "event_time" and "EVENT-TIME:"
// are one key.
std::string normalizeKey(std::string_view key);

class MailPairs {
  public:
    void add(Pair pair);
    // The first pair under this normalised key with a value, else the first with none;
    // nullptr when the message has no such key.
    const Pair* find(std::string_view normalized_key) const;
    // The pair of the first of these normalised keys that the message has with a value.
    const Pair* firstWithValue(const std::vector<std::string>& normalized_keys) const;
    const std::vector<Pair>& all() const { return pairs_; }
    bool empty() const { return pairs_.empty(); }
    std::size_t size() const { return pairs_.size(); }

  private:
    std::vector<Pair> pairs_;
    std::unordered_map<std::string, std::size_t> first_;  // normalised key -> index
};

// Where a field's value came from, for `email-test`: `key "Host" (key: value, line 3)`,
// `regex in body`.
struct FieldOrigin {
    std::string field;
    std::string value;
    std::string from;
};

// How a pair is described in a FieldOrigin: `key "Host" (key: value, line 3)`.
std::string describe(const Pair& pair);

// Reads every line of `text` for pairs (LF line ends) and adds them, numbered from 1.
void addTextPairs(std::string_view text, MailPairs& out);

// Whether `key` can be a field name: short, has a letter (any non-ASCII counts), no markup
// or sentence punctuation, and at most six words.
bool plausibleKey(std::string_view key);

// One line's pairs (exposed for tests and the HTML reader's cells).
void addLinePairs(std::string_view line, int line_number, MailPairs& out);

}  // namespace alertbridge::email
