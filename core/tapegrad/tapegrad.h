/* tapegrad/tapegrad.h - the whole public API in one include. */
#ifndef TAPEGRAD_H
#define TAPEGRAD_H

#include "tapegrad/tensor.h"
#include "tapegrad/error.h"
#include "tapegrad/autograd.h"
#include "tapegrad/ops.h"
#include "tapegrad/safetensors.h"

#endif
