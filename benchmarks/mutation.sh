#!/bin/bash
# Mutation testing of the core, by hand (slow, not CI): does a bug planted in the code fail a test?
#
#   bash benchmarks/mutation.sh core     # the loss, Hausdorff, the soft-DTW face, checkpoints ([tool.mutmut], pyproject.toml)
#   bash benchmarks/mutation.sh resume   # the training loop's resume path: Trainer._restore and Trainer.state, by
#                                        # the tests of test_loop*.py, test_methods.py and test_reference_checkpoint.py
#                                        # that continue from a checkpoint
#   bash benchmarks/mutation.sh core --survivors   # after adding tests: re-test only the last run's survivors
#
# Each runs mutmut (pip install mutmut) in a scratch copy of the project's tracked files, so that the
# project can be edited meanwhile, then prints each mutated function's score and the survivors
# (benchmarks/mutation_scores.py). Kept results make a second run redo only the functions that changed.
# On 2 cores: about 55 minutes (core, 1,440 mutants) and over an hour (resume, 142 mutants, each running
# training tests); DEEPNAG_SHARED_DATA as for the tests.
set -euo pipefail
suite=${1:-}
case $suite in
  core) names=() ;;
  resume) names=("deepnag.train.loop.xǁTrainerǁ_restore__mutmut_*" "deepnag.train.loop.xǁTrainerǁstate__mutmut_*") ;;
  *) echo "usage: bash benchmarks/mutation.sh core|resume" >&2; exit 2 ;;
esac
again=${2:-}
[ -z "$again" ] || [ "$again" = --survivors ] || { echo "error: unknown option $again; the one option is --survivors" >&2; exit 2; }
command -v mutmut >/dev/null || { echo "error: mutmut is not installed; pip install mutmut" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=${MUTATION_SCRATCH:-${TMPDIR:-/tmp}/deepnag-mutation}/$suite
mkdir -p "$scratch"
(cd "$root" && git ls-files -z | xargs -0 cp --parents -t "$scratch")
if [ "$suite" = resume ]; then  # the same mutmut settings, for the loop and its tests
  python - "$scratch/pyproject.toml" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
text = re.sub(r"only_mutate = \[[^\]]*\]", 'only_mutate = ["deepnag/train/loop.py"]', text)
tests = ["tests/test_loop.py", "tests/test_loop_faults.py", "tests/test_methods.py", "tests/test_reference_checkpoint.py"]
text = re.sub(r"pytest_add_cli_args_test_selection = \[[^\]]*\]",
              "pytest_add_cli_args_test_selection = " + repr(tests).replace("'", '"'), text)
# the loop's tests that write a checkpoint and continue from it (they all train)
text = re.sub(r"pytest_add_cli_args = \[[^\]]*\]", 'pytest_add_cli_args = ["-k", "resume or continue"]', text)
open(path, "w").write(text)
PY
fi
cd "$scratch"
if [ -n "$again" ]; then
  mapfile -t names < <(python -m benchmarks.mutation_scores --survivor-names)
  [ ${#names[@]} -gt 0 ] || { echo "no survivors to re-test in $scratch"; exit 0; }
fi
export MPLBACKEND=Agg DEEPNAG_SHARED_DATA=${DEEPNAG_SHARED_DATA:-$root/../shared/data}
mutmut run --max-children "${MUTATION_CHILDREN:-2}" "${names[@]}" > mutmut.log 2>&1 || { tail -c 2000 mutmut.log; exit 1; }
python -m benchmarks.mutation_scores --by-function
