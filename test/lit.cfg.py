# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "TAPE"
# lit's internal shell: portable, and it has diff, cat, mkdir... built in.
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.tape_obj_root, "test")
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "CMakeLists.txt",
                   "Inputs", "lib"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%tape_src_root", config.tape_src_root))
config.substitutions.append(("%tape_obj_root", config.tape_obj_root))
# Tests and scripts use Debian's interpreter, which sees python3-numpy.
config.substitutions.append(("%python", config.python3))
# The version of project() in CMakeLists.txt and of the LLVM built against
# (the tools' --version).
config.substitutions.append(("%tape_version", config.tape_version))
config.substitutions.append(("%llvm_version", config.llvm_version))
# The C and C++ compilers that link AOT objects in tests.
config.substitutions.append(("%cc", "cc"))
config.substitutions.append(("%cxx", "c++"))
# Programs that link the C API (libtape.so) in tests.
config.substitutions.append(("%tape_lib_dir", config.tape_lib_dir))
config.substitutions.append(
    ("%mlir_include_dir",
     os.path.join(os.path.dirname(config.llvm_tools_dir), "include")))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

tool_dirs = [config.tape_tools_dir, config.llvm_tools_dir]
tools = ["tape-opt", "tape-run", "tape-compile", "tape-lsp-server",
         "tape-npz-test", "split-file", "tape-import-torch"]
llvm_config.add_tool_substitutions(tools, tool_dirs)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.tape_tools_dir, append_path=True)

# Built with sanitizers (scripts/sanitize.sh): tests that limit the address
# space cannot run (ASan reserves terabytes of shadow memory).
if getattr(config, "tape_sanitize", ""):
    config.available_features.add("sanitizer")

# Data-parallel runs (tape-run under mpirun, AOT objects built with mpicc)
# when this build has MPI: feature `mpi`. %mpirun starts two processes on
# this machine, whatever its cores, as root too (CI runs as root); the
# shared-memory transport copies through a bounce buffer instead of
# cross-memory attach (ptrace), which containers often forbid. Without
# MPI the tests marked `UNSUPPORTED: mpi` check the "built without MPI"
# message.
if config.tape_mpi_abi and config.mpiexec and os.path.exists(config.mpiexec):
    config.available_features.add("mpi")
    launcher = [config.mpiexec, "-n", "2"]
    if config.tape_mpi_abi == "OpenMPI":
        launcher += ["--allow-run-as-root", "--oversubscribe",
                     "--mca", "btl_vader_single_copy_mechanism", "none"]
        # In a sanitizer build, the processes under mpirun run without
        # LeakSanitizer: OpenMPI leaves its own allocations at MPI_Finalize
        # (by design, its FAQ says), many from MCA components it has
        # already unloaded, whose frames no suppression can name. ASan and
        # UBSan stay on, and every other test checks the same code of ours
        # for leaks.
        if getattr(config, "tape_sanitize", ""):
            options = config.environment.get("ASAN_OPTIONS", "")
            launcher += ["-x", "ASAN_OPTIONS=" +
                         (options + ":" if options else "") + "detect_leaks=0"]
    config.substitutions.append(("%mpirun", " ".join(launcher)))
    config.substitutions.append(("%mpicc", config.mpicc))

# scripts/plot_log.py draws with Debian's python3-matplotlib (setup.sh
# installs it).
import subprocess
if subprocess.run([config.python3, "-c", "import matplotlib"],
                  capture_output=True).returncode == 0:
    config.available_features.add("matplotlib")

# tape-import-torch and its tests need Debian's python3-torch (setup.sh
# installs it); without it they are reported unsupported.
if subprocess.run([config.python3, "-c", "import torch"],
                  capture_output=True).returncode == 0:
    config.available_features.add("torch")

# A test that hangs fails after 20 minutes instead of holding CI until its
# own limit (a crash in JIT code that corrupted the heap once deadlocked
# LLVM's crash handler in malloc). lit needs psutil for it (scripts/setup.sh
# installs python3-psutil); without it, tests run unbounded.
try:
    import psutil  # noqa: F401
    lit_config.maxIndividualTestTime = 1200
except ImportError:
    lit_config.warning("python3-psutil is missing: no per-test time limit")
