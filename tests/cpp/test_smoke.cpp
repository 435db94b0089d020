#include <gtest/gtest.h>
#include "model_backend.hpp"
#include "teemed/vm.hpp"
TEST(Smoke, Create) {
	teemed::model::ModelBackend be;
	auto vm = teemed::Vm::create(be);
	ASSERT_TRUE(vm);
	EXPECT_EQ((*vm)->client_id(), 2u);
}
