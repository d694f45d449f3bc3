//===- frontend/Weft.h - the whole C++ DSL in one include -----------------===//
#pragma once

#include "frontend/Control.h"
#include "frontend/Graph.h"
#include "frontend/Init.h"
#include "frontend/Ops.h"
#include "frontend/Tensor.h"
