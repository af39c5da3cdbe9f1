// Runs a fuzz target without libFuzzer: over every file in the directories given, then over
// deterministic variants of each (prefixes, byte flips, duplicated halves), so that the
// targets run in every test build (GCC, ASan) and not only in the clang fuzzing build.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

void run(const std::string& s) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t inputs = 0;
    for (int i = 1; i < argc; ++i) {
        for (const auto& e : std::filesystem::recursive_directory_iterator(argv[i])) {
            if (!e.is_regular_file()) continue;
            std::ifstream in(e.path(), std::ios::binary);
            std::stringstream ss;
            ss << in.rdbuf();
            const std::string s = ss.str();
            run(s);
            for (std::size_t cut = 1; cut < s.size(); cut += 1 + s.size() / 16)
                run(s.substr(0, cut));
            std::uint32_t x = 2463534242u;  // xorshift: the same variants every run
            for (int k = 0; k < 32 && !s.empty(); ++k) {
                std::string v = s;
                for (int f = 0; f < 4; ++f) {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    v[x % v.size()] = static_cast<char>(x >> 24);
                }
                run(v);
            }
            run(s + s.substr(s.size() / 2));
            inputs += 1;
        }
    }
    std::cout << "replayed " << inputs << " inputs and their variants\n";
    return inputs > 0 ? 0 : 1;
}
