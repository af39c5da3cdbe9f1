#!/usr/bin/env bash
# Command 2 of the README: install what is missing, build, and run every test:
# config examples, formatting, unit and golden tests, the same under ASan+UBSan, the
# fuzz targets under libFuzzer,
# and the integration tests against the real Alertmanager.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh

echo "== build"
bash scripts/build.sh build

echo "== check-config over config-examples/"
for f in config-examples/*.yml config-examples/trace/week-*.yml; do
    if [ "$f" = config-examples/alertmanager.yml ]; then
        # Alertmanager's own config: checked by Alertmanager's amtool.
        amtool check-config "$f" >/dev/null
        echo "$f: SUCCESS (amtool)"
        continue
    fi
    printf '%s: ' "$f"
    ./build/alertbridge check-config "$f"
done

echo "== clang-format"
mapfile -t sources < <(git ls-files '*.cpp' '*.hpp' 2>/dev/null || find plugin adapters tests bench -name '*.[ch]pp')
clang-format --dry-run -Werror "${sources[@]}"

echo "== clang-tidy (plugin/ and the adapters)"
git ls-files 'plugin/*.cpp' 'adapters/alertmanager/*.cpp' 'adapters/nightingale/*.cpp' 'adapters/email/*.cpp' 'adapters/lookup/*.cpp' | grep -v 'plugin/app/main.cpp' |
    xargs -P"$(nproc)" -n4 clang-tidy -p build --quiet --warnings-as-errors='*' 2>/dev/null

echo "== unit, golden and integration tests"
(cd build && ctest --output-on-failure -j2)

echo "== unit tests under ASan and UBSan"
bash scripts/build.sh build-asan -DALERTBRIDGE_SANITIZE=ON -DALERTBRIDGE_ONLY_UNIT_TESTS=ON
(cd build-asan && ctest --output-on-failure -j2 -L unit)

echo "== fuzzing under libFuzzer, ASan and UBSan (30 s per target)"
bash scripts/fuzz.sh 30
