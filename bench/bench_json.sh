# Sourced by the bench scripts: collects result rows and writes the JSON file every benchmark
# writes with --json FILE:
#   {"bench": NAME, "machine": TEXT, "rows": [{"name", "value", "unit", "baseline",
#    "baseline_value", "ratio", "target", "met"}]}
# json_row NAME VALUE UNIT [BASELINE BASELINE_VALUE RATIO TARGET MET]; empty optional fields
# become "" (texts) or null (numbers, met). json_write BENCH FILE writes what was collected.
bench_rows=()

json_str() { # a JSON string literal (our texts have no control characters)
  local s=${1//\\/\\\\}
  printf '"%s"' "${s//\"/\\\"}"
}
json_num() { [ -n "$1" ] && printf '%s' "$1" || printf 'null'; }

json_row() {
  local name=$1 value=$2 unit=$3 baseline=${4:-} baseline_value=${5:-} ratio=${6:-} target=${7:-}
  local met=${8:-}
  [ -n "$met" ] || met=null
  bench_rows+=("{\"name\": $(json_str "$name"), \"value\": $(json_num "$value"), \"unit\": $(json_str "$unit"), \"baseline\": $(json_str "$baseline"), \"baseline_value\": $(json_num "$baseline_value"), \"ratio\": $(json_num "$ratio"), \"target\": $(json_str "$target"), \"met\": $met}")
}

bench_machine() {
  local cpu
  cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null)
  printf '%s, %s cores, %s MiB RAM, %s' "${cpu:-unknown CPU}" "$(nproc)" \
    "$(awk '/^MemTotal/ {printf "%d", $2 / 1024}' /proc/meminfo)" "$(uname -sr)"
}

json_write() {
  local bench=$1 file=$2 i
  [ -n "$file" ] || return 0
  {
    printf '{"bench": %s, "machine": %s, "rows": [' "$(json_str "$bench")" "$(json_str "$(bench_machine)")"
    for i in "${!bench_rows[@]}"; do
      ((i)) && printf ','
      printf '\n  %s' "${bench_rows[$i]}"
    done
    printf '\n]}\n'
  } >"$file"
}

# ratio A B -> A / B with 3 decimals, empty when B is 0 or missing
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.3f", a / b }'; }
