# find_package(tape REQUEST) against the package installed in PREFIX, and
# nothing else (installed_package.sh: versions it must refuse).
#   cmake -DPREFIX=<install prefix> -DREQUEST=<version> -P find_tape.cmake
find_package(tape ${REQUEST} CONFIG REQUIRED PATHS ${PREFIX} NO_DEFAULT_PATH)
