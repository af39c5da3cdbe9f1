#include "adapters/email/html_text.hpp"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <array>
#include <climits>
#include <mutex>
#include <utility>
#include <vector>

namespace alertbridge::email {
namespace {

constexpr int kMaxDepth = 256;  // deeper markup is not an alert mail; its text is skipped

bool named(const xmlNode* n, std::string_view name) {
    return n->type == XML_ELEMENT_NODE && n->name != nullptr &&
           name == reinterpret_cast<const char*>(n->name);
}

bool isBlock(const xmlNode* n) {
    static constexpr std::array<std::string_view, 31> kBlocks = {
        "p",       "div",     "li",     "ul",    "ol",    "h1",    "h2",         "h3",
        "h4",      "h5",      "h6",     "title", "hr",    "pre",   "blockquote", "section",
        "article", "header",  "footer", "thead", "tbody", "tfoot", "caption",    "center",
        "form",    "address", "body",   "html",  "dl",    "main",  "nav"};
    if (n->type != XML_ELEMENT_NODE || n->name == nullptr) return false;
    std::string_view name = reinterpret_cast<const char*>(n->name);
    for (auto b : kBlocks) {
        if (name == b) return true;
    }
    return false;
}

bool skipped(const xmlNode* n) {
    return named(n, "script") || named(n, "style") || named(n, "noscript") ||
           named(n, "template") || named(n, "object");
}

std::string oneLine(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '\n') {
            if (!out.empty() && out.back() != ' ') out += ' ';
        } else {
            out += c;
        }
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    std::size_t i = 0;
    while (i < out.size() && out[i] == ' ') ++i;
    return out.substr(i);
}

// A table cell that can be a key: short, a word, not itself "key: value".
bool cellKey(std::string_view text) {
    if (text.find(':') != std::string_view::npos || text.find('=') != std::string_view::npos) {
        return text.ends_with(":") && plausibleKey(text.substr(0, text.size() - 1));
    }
    if (text.find("\xEF\xBC\x9A") != std::string_view::npos) {  // ：
        return text.ends_with("\xEF\xBC\x9A") && plausibleKey(text.substr(0, text.size() - 3));
    }
    return plausibleKey(text);
}

class Reader {
  public:
    explicit Reader(MailPairs* pairs) : pairs_(pairs) {}

    void walk(const xmlNode* n, int depth) {
        for (; n != nullptr; n = n->next) visit(n, depth);
    }

    std::string finish() {
        endLine();
        while (!out_.empty() && out_.back() == '\n') out_.pop_back();
        return std::move(out_);
    }

  private:
    struct Cell {
        bool th = false;
        std::string text;
    };
    struct Table {
        std::vector<std::string> header;  // a first row of <th> only, with 3 or more columns
        bool first_row = true;
    };

    void visit(const xmlNode* n, int depth) {
        if (depth > kMaxDepth) return;
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            if (n->content != nullptr) text(reinterpret_cast<const char*>(n->content));
            return;
        }
        if (n->type != XML_ELEMENT_NODE || skipped(n)) return;
        if (named(n, "br")) {
            endLine();
        } else if (named(n, "table")) {
            if (in_row_ > 0) nested_ = true;
            tables_.emplace_back();
            endLine();
            walk(n->children, depth + 1);
            endLine();
            tables_.pop_back();
        } else if (named(n, "tr")) {
            row(n, depth);
        } else if (named(n, "dt") || named(n, "dd")) {
            endLine();
            ++in_row_;
            std::size_t begin = out_.size();
            walk(n->children, depth + 1);
            std::string value = oneLine(std::string_view(out_).substr(begin));
            endLine();
            --in_row_;
            if (named(n, "dt")) {
                term_ = std::move(value);
            } else if (!term_.empty() && pairs_ != nullptr && cellKey(term_)) {
                pairs_->add(Pair{term_, std::move(value), Layout::kDefinition, 0});
                term_.clear();
            }
        } else if (named(n, "pre")) {
            endLine();
            ++pre_;
            walk(n->children, depth + 1);
            --pre_;
            endLine();
        } else if (isBlock(n)) {
            endLine();
            walk(n->children, depth + 1);
            endLine();
        } else {
            walk(n->children, depth + 1);
        }
    }

    void text(std::string_view s) {
        for (std::size_t i = 0; i < s.size(); ++i) {
            char c = s[i];
            bool nbsp = c == '\xC2' && i + 1 < s.size() && s[i + 1] == '\xA0';
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || nbsp) {
                if (nbsp) ++i;
                if (pre_ > 0 && c == '\n') {
                    endLine();
                } else {
                    space_ = true;
                }
                continue;
            }
            if (space_ && out_.size() > line_start_ && out_.back() != ' ') out_ += ' ';
            space_ = false;
            out_ += c;
        }
    }

    void endLine() {
        while (out_.size() > line_start_ && out_.back() == ' ') out_.pop_back();
        space_ = false;
        if (out_.size() == line_start_) return;
        ++line_;
        if (in_row_ == 0 && pairs_ != nullptr) {
            addLinePairs(std::string_view(out_).substr(line_start_), line_, *pairs_);
        }
        out_ += '\n';
        line_start_ = out_.size();
    }

    void row(const xmlNode* tr, int depth) {
        endLine();
        ++in_row_;
        bool outer_nested = nested_;
        nested_ = false;
        std::vector<Cell> cells;
        for (const xmlNode* c = tr->children; c != nullptr; c = c->next) {
            if (!named(c, "td") && !named(c, "th")) {
                visit(c, depth + 1);
                continue;
            }
            if (!cells.empty()) {
                while (out_.size() > line_start_ && out_.back() == ' ') out_.pop_back();
                if (out_.size() > line_start_) out_ += " | ";
            }
            space_ = false;
            std::size_t begin = out_.size();
            walk(c->children, depth + 1);
            cells.push_back(
                Cell{named(c, "th"), std::string(std::string_view(out_).substr(begin))});
        }
        endLine();
        --in_row_;
        bool nested = nested_;
        nested_ = outer_nested || nested;
        if (pairs_ != nullptr && !nested && !cells.empty()) rowPairs(cells);
    }

    void rowPairs(std::vector<Cell>& cells) {
        std::vector<std::string> raw;
        raw.reserve(cells.size());
        for (auto& c : cells) raw.push_back(std::exchange(c.text, oneLine(c.text)));
        Table* table = tables_.empty() ? nullptr : &tables_.back();
        bool all_th = std::all_of(cells.begin(), cells.end(), [](const Cell& c) { return c.th; });
        bool first = table != nullptr && table->first_row;
        if (table != nullptr) table->first_row = false;
        if (first && all_th && cells.size() >= 3) {
            for (const auto& c : cells) table->header.push_back(c.text);
            return;
        }
        if (table != nullptr && !table->header.empty() && table->header.size() == cells.size() &&
            !all_th) {
            for (std::size_t i = 0; i < cells.size(); ++i) {
                if (plausibleKey(table->header[i])) {
                    pairs_->add(Pair{table->header[i], cells[i].text, Layout::kTableColumn, 0});
                }
            }
            return;
        }
        bool pairs = cells.size() % 2 == 0;
        for (std::size_t i = 0; pairs && i < cells.size(); i += 2) {
            pairs = cellKey(cells[i].text) && !cells[i + 1].th;
        }
        if (pairs) {
            for (std::size_t i = 0; i < cells.size(); i += 2) {
                pairs_->add(Pair{cells[i].text, cells[i + 1].text,
                                 cells[i].th ? Layout::kTableHeader : Layout::kTableRow, 0});
            }
            return;
        }
        // A header cell that opens a row of data cells names them: <th>Host</th><td>a</td>
        // <td>(primary)</td>.
        if (cells.size() > 2 && cells[0].th && cellKey(cells[0].text) &&
            std::none_of(cells.begin() + 1, cells.end(), [](const Cell& c) { return c.th; })) {
            std::string value;
            for (std::size_t i = 1; i < cells.size(); ++i) {
                if (cells[i].text.empty()) continue;
                if (!value.empty()) value += ' ';
                value += cells[i].text;
            }
            pairs_->add(Pair{cells[0].text, std::move(value), Layout::kTableHeader, 0});
            return;
        }
        for (const auto& text : raw) addTextPairs(text, *pairs_);  // "<td>主机：a<br>IP：b</td>"
    }

    MailPairs* pairs_;
    std::string out_;
    std::size_t line_start_ = 0;
    int line_ = 0;
    int in_row_ = 0;  // rows and definitions make their own pairs
    int pre_ = 0;
    bool space_ = false;
    bool nested_ = false;  // a table began inside the current row
    std::vector<Table> tables_;
    std::string term_;  // the last <dt>
};

void initLibxml() {
    static std::once_flag once;
    std::call_once(once, [] { xmlInitParser(); });
}

}  // namespace

std::string readHtml(std::string_view html, MailPairs* pairs) {
    if (html.empty() || html.size() > static_cast<std::size_t>(INT_MAX)) return "";
    initLibxml();
    htmlDocPtr doc = htmlReadMemory(
        html.data(), static_cast<int>(html.size()), nullptr, "UTF-8",
        HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    if (doc == nullptr) return "";
    Reader reader(pairs);
    reader.walk(xmlDocGetRootElement(doc), 0);
    xmlFreeDoc(doc);
    return reader.finish();
}

}  // namespace alertbridge::email
