#!/usr/bin/env bash
# Runs every fuzz target in turn (one libFuzzer job at a time), each for SECONDS seconds.
# Usage: fuzz/scripts/run_all.sh [SECONDS] [LOG_DIR]   (defaults: 600, /tmp/fuzz-logs)
# Seeds first: python3 fuzz/scripts/seed_corpus.py, python3 fuzz/scripts/seed_rules.py and
# cargo run --manifest-path fuzz/Cargo.toml --example seed_network
set -u
SECONDS_PER_TARGET=${1:-600}
LOG_DIR=${2:-/tmp/fuzz-logs}
TARGETS=${TARGETS:-"base45 inflate cose_cwt verify signer_certificate scan_image certlogic rule cms network_json gateway_prepare divoc shc vds_seal trust_lists divoc_proof tlog revocation_filter"}
cd "$(dirname "$0")/.." || exit 1
mkdir -p "$LOG_DIR"
export RUSTC_BOOTSTRAP=1
for t in $TARGETS; do
    log="$LOG_DIR/$t.log"
    {
        echo "== $t  start $(date -u +%FT%TZ)  commit $(git rev-parse --short HEAD)"
        git status --short ../crates | sed 's/^/   local change: /'
    } > "$log"
    # A build can fail while someone is halfway through an edit of the crates: retry.
    for attempt in 1 2 3 4 5; do
        if cargo fuzz build -a "$t" >> "$log" 2>&1; then break; fi
        echo "== build attempt $attempt failed; retrying in 60 s" >> "$log"
        sleep 60
    done
    # QR images are larger than certificate texts; trust lists and CMS uploads too.
    max_len=4096
    [ "$t" = scan_image ] && max_len=65536
    case "$t" in cms | network_json | gateway_prepare | divoc | shc | vds_seal | trust_lists | divoc_proof | tlog | revocation_filter) max_len=8192 ;; esac
    cargo fuzz run -a "$t" -- \
        -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -max_len="$max_len" \
        -print_final_stats=1 >> "$log" 2>&1
    echo "== $t  exit $?  end $(date -u +%FT%TZ)" >> "$log"
done
