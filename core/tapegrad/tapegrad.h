/* tapegrad/tapegrad.h - the whole public API in one include. */
#ifndef TAPEGRAD_H
#define TAPEGRAD_H

#include "tapegrad/tensor.h"
#include "tapegrad/error.h"
#include "tapegrad/autograd.h"
#include "tapegrad/grad_report.h"
#include "tapegrad/parallel.h"
#include "tapegrad/graph.h"
#include "tapegrad/ops.h"
#include "tapegrad/activation.h"
#include "tapegrad/norm.h"
#include "tapegrad/reduce.h"
#include "tapegrad/dropout.h"
#include "tapegrad/loss.h"
#include "tapegrad/shape.h"
#include "tapegrad/linalg.h"
#include "tapegrad/safetensors.h"
#include "tapegrad/nn.h"
#include "tapegrad/optim.h"
#include "tapegrad/data.h"
#include "tapegrad/loader.h"
#include "tapegrad/dist.h"

#endif
