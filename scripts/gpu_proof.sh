#!/usr/bin/env bash
# The cuda proof (issue 6), run once on a lent GPU machine from the repository root:
#
#   OUT=/some/dir scripts/gpu_proof.sh
#
# Writes into $OUT: env.txt (GPU, driver, versions), bench.txt and bench.json (`tcli bench --device cuda`
# against PyTorch on the same GPU), conformance.txt (the shared corpus run as `tcli run --device cuda`, the
# device suffix stripped from the printed tensors so the cpu answers apply) and engine-cuda.txt (the engine
# test suite's cuda half: every test that takes the `device` fixture, with PyTorch on the cpu as the oracle),
# kernels.txt (scripts/gpu_fused_check.py: the fused kernels' bits and bandwidth; scripts/gpu_overhead.py: where
# a tiny op's and a training step's time goes).
# Missing pure-Python wheels (prompt_toolkit, platformdirs, pexpect, ...) travel in .whl/; a copy of the
# shared corpus travels in .gpu/conformance/ (the device machine sees only this checkout).
set -u
OUT=${OUT:-/tmp/gpu_proof}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 NO_COLOR=1 COLUMNS=120
ROOT=$(pwd)
SITE=/tmp/site
if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" .whl/*.whl
fi
export PYTHONPATH="$SITE:$ROOT"
BIN=/tmp/gpu_bin
mkdir -p "$BIN"
# `tcli` on PATH for the conformance runner: every script on the GPU, tensors printed without the device suffix.
cat >"$BIN/tcli" <<EOF
#!/usr/bin/env bash
set -o pipefail
shift  # "run"
python3 -m tcli run --device cuda "\$@" | sed "s/, device='cuda:0'//g"
EOF
chmod +x "$BIN/tcli"
export PATH="$BIN:$PATH"

{
    date -u +"%Y-%m-%d %H:%M UTC"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    python3 -c "import sys, numpy, cupy, torch; print('python', sys.version.split()[0], '| numpy', numpy.__version__, '| cupy', cupy.__version__, '| torch', torch.__version__)"
    python3 -c "import engine; print('engine sees cuda:', engine.cuda.is_available(), engine.cuda.device_count())"
} 2>&1 | tee "$OUT/env.txt"

echo "== bench" | tee "$OUT/bench.txt"
timeout 80 python3 -m tcli bench --device cuda --size medium --budget 1 --json "$OUT/bench.json" 2>&1 | tee -a "$OUT/bench.txt"
echo "== bench, MLP with 4096x4096 weights" | tee -a "$OUT/bench.txt"
timeout 50 python3 -m tcli bench --device cuda --size large --only mlp_large,elementwise \
    --json "$OUT/bench-large.json" 2>&1 | tee -a "$OUT/bench.txt"

echo "== fused kernels" | tee "$OUT/kernels.txt"
timeout 50 python3 scripts/gpu_fused_check.py 2>&1 | tee -a "$OUT/kernels.txt"

# the corpus (one process per case) beside the suite (8 workers): the machine has 16 cores
echo "== conformance (tsr, --device cuda)" >"$OUT/conformance.txt"
if [ -d .gpu/conformance ]; then
    timeout 110 python3 .gpu/conformance/run.py --mode tsr --timeout 20 >>"$OUT/conformance.txt" 2>&1 &
fi
# the elementwise tests again with every chain fused (TCLI_FUSE_MIN_NUMEL=0), so the generated kernels, the dense
# ones among them, meet the small and odd shapes of those tests on the GPU (the fusion test files themselves
# count the emulator's calls and run only under it)
TCLI_FUSE_MIN_NUMEL=0 timeout 110 python3 -m pytest tests/test_engine_ops.py tests/test_engine_elementwise_more.py \
    -k cuda -p no:cacheprovider -p no:warnings -q -rfE >/tmp/fuse-all.txt 2>&1 &
echo "== engine suite, cuda half" | tee "$OUT/engine-cuda.txt"
# pytest-xdist (in the GPU image) spreads the suite over the machine's cores; the GPU is shared by the workers.
XDIST=()
python3 -c "import xdist" 2>/dev/null && XDIST=(-n 8)
timeout "${SUITE_S:-120}" python3 -m pytest tests/test_engine_*.py -k cuda -p no:cacheprovider -p no:warnings -rfE \
    "${XDIST[@]}" --junitxml="$OUT/engine-cuda.xml" >>"$OUT/engine-cuda.txt" 2>&1
echo "pytest exit status $?" >>"$OUT/engine-cuda.txt"
wait
{ echo "== fusion tests, every chain fused"; tail -15 /tmp/fuse-all.txt; } | tee -a "$OUT/kernels.txt"

echo "== where the overhead goes" | tee -a "$OUT/kernels.txt"
timeout 45 python3 scripts/gpu_overhead.py 2>&1 | tee -a "$OUT/kernels.txt"

# The reply shows only the end of the output: a short summary of every part last.
echo
echo "================ summary"
cat "$OUT/env.txt"
grep -vE '^\s*$' "$OUT/bench.txt" | tail -40
grep -v "^tiny\|^mlp" "$OUT/kernels.txt"
grep -v "^PASS" "$OUT/conformance.txt" | tail -12
python3 - "$OUT/engine-cuda.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception as e:
    print("engine suite: no junit xml:", e); sys.exit()
suites = [root] if root.tag == "testsuite" else list(root)
tot = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
print("engine suite, cuda half:", tot)
bad = [c for s in suites for c in s.iter("testcase") if c.find("failure") is not None or c.find("error") is not None]
for c in bad[:25]:
    el = c.find("failure") if c.find("failure") is not None else c.find("error")
    print(" FAIL", c.get("classname"), c.get("name"), "|", (el.get("message") or "")[:200].replace("\n", " "))
PY
tail -2 "$OUT/engine-cuda.txt"
echo "done"
