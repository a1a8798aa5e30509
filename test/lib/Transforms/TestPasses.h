//===- TestPasses.h - Test-only passes --------------------------*- C++ -*-===//

#ifndef TAPE_TEST_TESTPASSES_H
#define TAPE_TEST_TESTPASSES_H

namespace tape_test {
/// Registers the test-only passes with the global pass registry.
void registerTestPasses();
} // namespace tape_test

#endif // TAPE_TEST_TESTPASSES_H
