/* tapegrad/optim.h - optimizers with PyTorch 1.13's update rules and defaults:
 * SGD (momentum, dampening, Nesterov), Adagrad, RMSprop, Adam and AdamW;
 * learning-rate schedules; gradient clipping.
 *
 * An optimizer holds a reference to each of its parameters (released by
 * tg_optim_free) and owns its state tensors (momentum buffers, moving
 * averages), which live outside any pool. Parameters are grouped: each group
 * has its own hyper-parameters, as in PyTorch's param_groups (say, a second
 * group of biases with no weight decay).
 *
 *     tg_adam_options o = tg_adamw_defaults();
 *     o.lr = 3e-4;
 *     tg_optimizer *opt = tg_adamw_new(weights, 2, &o);
 *     o.weight_decay = 0;
 *     tg_adam_add_group(opt, biases, 2, &o);
 *     for (...) {
 *         tg_optim_zero_grad(opt, false);
 *         tg_backward(loss, NULL);
 *         tg_optim_step(opt);
 *     }
 *     tg_optim_free(opt);
 *
 * step updates each parameter in place, in one pass over its elements,
 * outside the tape (no grad mode switch needed) and bumps its version
 * counter. A parameter whose grad is NULL is skipped, and its step count
 * does not advance, as in PyTorch. Failures follow tapegrad/error.h: NULL or
 * -1, with a message naming the optimizer and the bad value.
 */
#ifndef TAPEGRAD_OPTIM_H
#define TAPEGRAD_OPTIM_H

#include "tapegrad/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tg_optimizer tg_optimizer;

/* ---- Hyper-parameters (field names and defaults as in torch.optim) -------- */

/* torch.optim.SGD. lr has no default, hence the argument. Nesterov needs
 * momentum > 0 and dampening 0. */
typedef struct tg_sgd_options {
    double lr, momentum, dampening, weight_decay;
    bool nesterov, maximize;
} tg_sgd_options;
TG_API tg_sgd_options tg_sgd_defaults(double lr);

/* torch.optim.Adagrad: lr 1e-2, lr_decay 0, weight_decay 0,
 * initial_accumulator_value 0, eps 1e-10. */
typedef struct tg_adagrad_options {
    double lr, lr_decay, weight_decay, initial_accumulator_value, eps;
    bool maximize;
} tg_adagrad_options;
TG_API tg_adagrad_options tg_adagrad_defaults(void);

/* torch.optim.RMSprop: lr 1e-2, alpha 0.99, eps 1e-8, weight_decay 0,
 * momentum 0, centered false. */
typedef struct tg_rmsprop_options {
    double lr, alpha, eps, weight_decay, momentum;
    bool centered, maximize;
} tg_rmsprop_options;
TG_API tg_rmsprop_options tg_rmsprop_defaults(void);

/* torch.optim.Adam and AdamW: lr 1e-3, betas (0.9, 0.999), eps 1e-8,
 * amsgrad false. Adam's weight_decay (default 0) is L2, added to the
 * gradient; AdamW's (default 1e-2) is decoupled, p -= lr * wd * p. */
typedef struct tg_adam_options {
    double lr, beta1, beta2, eps, weight_decay;
    bool amsgrad, maximize;
} tg_adam_options;
TG_API tg_adam_options tg_adam_defaults(void);
TG_API tg_adam_options tg_adamw_defaults(void);

/* ---- Creation -----------------------------------------------------------------
 * Each takes n parameters (leaves that require grad, float32 or float64) as
 * the first group. A parameter whose elements share memory (an expanded
 * tensor) is refused here, where PyTorch refuses it at the first step: its
 * strides cannot change, so the verdict is the same, and a step never stops
 * with some parameters updated and others not. opts NULL means the defaults above (SGD has no default lr
 * and needs opts). Returns NULL with an error on a bad value or parameter. */
TG_API tg_optimizer *tg_sgd_new(tg_tensor *const *params, int n, const tg_sgd_options *opts);
TG_API tg_optimizer *tg_adagrad_new(tg_tensor *const *params, int n,
                                    const tg_adagrad_options *opts);
TG_API tg_optimizer *tg_rmsprop_new(tg_tensor *const *params, int n,
                                    const tg_rmsprop_options *opts);
TG_API tg_optimizer *tg_adam_new(tg_tensor *const *params, int n, const tg_adam_options *opts);
TG_API tg_optimizer *tg_adamw_new(tg_tensor *const *params, int n, const tg_adam_options *opts);

/* Add a parameter group with its own hyper-parameters (add_param_group).
 * The options must be of the optimizer's kind (tg_adam_add_group serves
 * Adam and AdamW); a parameter may belong to one group only. Returns the
 * new group's index, or -1. */
TG_API int tg_sgd_add_group(tg_optimizer *opt, tg_tensor *const *params, int n,
                            const tg_sgd_options *opts);
TG_API int tg_adagrad_add_group(tg_optimizer *opt, tg_tensor *const *params, int n,
                                const tg_adagrad_options *opts);
TG_API int tg_rmsprop_add_group(tg_optimizer *opt, tg_tensor *const *params, int n,
                                const tg_rmsprop_options *opts);
TG_API int tg_adam_add_group(tg_optimizer *opt, tg_tensor *const *params, int n,
                             const tg_adam_options *opts);

/* Releases the parameters and frees the state (NULL-safe). */
TG_API void tg_optim_free(tg_optimizer *opt);

/* ---- Training --------------------------------------------------------------- */
/* One update of every parameter that has a grad. Returns 0, or -1. */
TG_API int tg_optim_step(tg_optimizer *opt);
/* Zero every parameter's grad, or drop it (grad NULL) with set_to_none, as
 * optimizer.zero_grad(set_to_none) (PyTorch 1.13's default is false). The
 * zeros are written lazily, as tg_zero_grad writes them. */
TG_API void tg_optim_zero_grad(tg_optimizer *opt, tg_zero_grad_mode mode);

/* ---- Learning rate and inspection --------------------------------------------- */
TG_API int tg_optim_n_groups(const tg_optimizer *opt);
/* Learning rate of a group (NAN and an error for a bad index). */
TG_API double tg_optim_lr(const tg_optimizer *opt, int group);
/* Sets one group's learning rate, or every group's when group is -1, for
 * the next steps. Returns 0, or -1 for a negative lr or a bad index. */
TG_API int tg_optim_set_lr(tg_optimizer *opt, int group, double lr);
/* The momentum of a group, param_groups[g]["momentum"] (SGD, RMSprop) or
 * ["betas"][0] (Adam, AdamW), which OneCycleLR cycles; NAN and an error
 * for Adagrad, which has none, and for a bad index. */
TG_API double tg_optim_momentum(const tg_optimizer *opt, int group);
/* "SGD", "Adagrad", "RMSprop", "Adam" or "AdamW". */
TG_API const char *tg_optim_name(const tg_optimizer *opt);
/* A parameter's state tensor under PyTorch's key ("momentum_buffer", "sum",
 * "square_avg", "grad_avg", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
 * borrowed; NULL when the optimizer keeps no such state for it. States
 * exist from creation and hold their initial value (0, or Adagrad's
 * initial_accumulator_value) until the parameter's first step. */
TG_API tg_tensor *tg_optim_state(const tg_optimizer *opt, const tg_tensor *param, const char *name);
/* How many updates a parameter has had (state["step"]), or -1 with an error
 * when it is not one of the optimizer's parameters. */
TG_API int64_t tg_optim_step_count(const tg_optimizer *opt, const tg_tensor *param);

/* ---- Saving and resuming ----------------------------------------------------------
 * The optimizer's state in a safetensors file, next to the model's (saved
 * with tg_module_save or tg_save_safetensors), so that training resumes bit
 * for bit: 10 steps, save both, load both into a new model and a new
 * optimizer made the same way, 10 steps, is 20 steps. The names follow
 * PyTorch's optimizer.state_dict(), parameters numbered from 0 in the order
 * the groups were given them; scalars are 0-dim float64 tensors:
 *   optimizer.<name>          marks the kind ("optimizer.AdamW", as
 *                             tg_optim_name); holds the number of parameters
 *   param_groups.<g>.lr       group g's current learning rate
 *   param_groups.<g>.params   (k,) float64: the indices of its k parameters
 *   state.<i>.step            parameter i's step count
 *   state.<i>.<key>           each state tensor it has (tg_optim_state's
 *                             keys), of the parameter's shape and dtype
 * The lr is saved, and restored, because it changes during training
 * (tg_optim_set_lr, a schedule); as in PyTorch, the lr the optimizer was
 * made with is replaced. The other hyper-parameters are not saved: they
 * are what the code that makes the optimizer passes. A scheduler's epoch
 * and base lrs go in a file of their own (tg_lr_scheduler_save).
 *
 * Loading is strict and all or nothing: the file must be of the same kind,
 * with the same groups of the same sizes, every name above present with the
 * shape and dtype of the parameter (so the same options: amsgrad adds
 * max_exp_avg_sq), nothing else, and valid counts and lrs; otherwise -1 and
 * nothing changes. The parameters themselves are not touched: load them
 * with tg_module_load or tg_load_safetensors. Both return 0 or -1; saving
 * replaces the file atomically, as tg_save_safetensors does. */
TG_API int tg_optim_save(const tg_optimizer *opt, const char *path);
TG_API int tg_optim_load(tg_optimizer *opt, const char *path);

/* ---- Learning-rate schedules ---------------------------------------------------
 * torch.optim.lr_scheduler. A scheduler sets the lr of each group of an
 * optimizer (borrowed: it must outlive the scheduler), from the groups'
 * initial lrs (PyTorch's base_lrs: the lrs the first scheduler made on the
 * optimizer found, group['initial_lr'] there, so a second scheduler starts
 * from the same ones). Making it is PyTorch's constructor, which already
 * sets the lrs of epoch 0; call tg_lr_scheduler_step after each
 * tg_optim_step, as scheduler.step(). Each lr is PyTorch's to the last
 * bit: the schedules PyTorch computes from the previous lr (its get_lr,
 * "chainable") are computed so here too, rounding as it rounds, not by the
 * closed form, which differs in the last bits after a few steps; and
 * several schedules on one optimizer compose as they do there.
 * Constructors refuse what PyTorch refuses, with its message after the
 * scheduler's name, and also values that PyTorch takes but that cannot
 * make a schedule (a gamma <= 0, empty or unsorted milestones, a factor
 * that PyTorch later divides by when 0...): each is listed below. */
typedef struct tg_lr_scheduler tg_lr_scheduler;

/* StepLR: lr *= gamma every step_size epochs (gamma > 0). */
#define TG_STEP_LR_DEFAULT_GAMMA 0.1
TG_API tg_lr_scheduler *tg_step_lr(tg_optimizer *opt, int step_size, double gamma);
/* MultiStepLR: lr *= gamma at each of the n milestones, which must be
 * sorted and >= 0 (PyTorch counts them in any order: a milestone given
 * twice decays twice there, here too); gamma > 0. */
#define TG_MULTI_STEP_LR_DEFAULT_GAMMA 0.1
TG_API tg_lr_scheduler *tg_multi_step_lr(tg_optimizer *opt, int n, const int *milestones,
                                         double gamma);
/* ExponentialLR: lr *= gamma every epoch (gamma > 0; PyTorch has no
 * default). */
TG_API tg_lr_scheduler *tg_exponential_lr(tg_optimizer *opt, double gamma);
/* ConstantLR: lr * factor until epoch total_iters, then lr (factor in
 * (0, 1]: PyTorch divides by it at total_iters; total_iters >= 1). */
#define TG_CONSTANT_LR_DEFAULT_FACTOR (1.0 / 3)
#define TG_CONSTANT_LR_DEFAULT_TOTAL_ITERS 5
TG_API tg_lr_scheduler *tg_constant_lr(tg_optimizer *opt, double factor, int total_iters);
/* LinearLR: the factor on lr goes linearly from start_factor to
 * end_factor over total_iters epochs (start_factor in (0, 1], end_factor
 * in [0, 1], total_iters >= 1). */
#define TG_LINEAR_LR_DEFAULT_START_FACTOR (1.0 / 3)
#define TG_LINEAR_LR_DEFAULT_END_FACTOR 1.0
#define TG_LINEAR_LR_DEFAULT_TOTAL_ITERS 5
TG_API tg_lr_scheduler *tg_linear_lr(tg_optimizer *opt, double start_factor, double end_factor,
                                     int total_iters);
/* CosineAnnealingLR: from the base lr down to eta_min at epoch t_max along
 * a half cosine (and back up after it, as PyTorch's does). */
TG_API tg_lr_scheduler *tg_cosine_annealing_lr(tg_optimizer *opt, int t_max, double eta_min);
/* CosineAnnealingWarmRestarts: the same half cosine over t_0 epochs, then
 * again from the base lr over t_0 * t_mult, t_0 * t_mult^2, ... (t_0 >= 1,
 * t_mult >= 1). It steps by whole epochs: PyTorch's step(epoch) with a
 * fractional epoch has no counterpart. */
#define TG_COSINE_WARM_RESTARTS_DEFAULT_T_MULT 1
TG_API tg_lr_scheduler *tg_cosine_annealing_warm_restarts(tg_optimizer *opt, int t_0, int t_mult,
                                                          double eta_min);
/* Linear warmup then cosine decay, as LLM training uses (the LambdaLR of
 * transformers' get_cosine_schedule_with_warmup, with a floor): lr = base *
 * t / warmup for t < warmup, then base * (r + (1 - r) (1 + cos(pi p)) / 2)
 * with p = (t - warmup) / (total - warmup) up to 1 and r = final_ratio, so
 * it stays at base * r from the total step on. */
TG_API tg_lr_scheduler *tg_warmup_cosine_lr(tg_optimizer *opt, int warmup_steps, int total_steps,
                                            double final_ratio);

/* LambdaLR: lr = base lr * lr_lambda(epoch, group, ctx), PyTorch's
 * lr_lambda (or its list of them, one per group: the group says which).
 * The function is code, which no file holds: as PyTorch's state_dict
 * keeps a lambda's epoch and base lrs but not the lambda, load into a
 * LambdaLR made with the same function and context. A value that makes
 * an lr negative or NaN fails the step. */
typedef double (*tg_lr_lambda)(int64_t epoch, int group, void *ctx);
TG_API tg_lr_scheduler *tg_lambda_lr(tg_optimizer *opt, tg_lr_lambda lr_lambda, void *ctx);

/* OneCycleLR: from max_lr / div_factor up to max_lr over pct_start of
 * total_steps, then down to max_lr / div_factor / final_div_factor by the
 * end (three_phase: back to the start first, then down), annealing by a
 * cosine or linearly; with cycle_momentum, the momentum goes the other
 * way, from max_momentum down to base_momentum and back. The momentum is
 * SGD's and RMSprop's momentum, Adam's and AdamW's beta1, as PyTorch's
 * OneCycleLR finds them; Adagrad has none, and PyTorch refuses it then.
 * Unlike PyTorch, an SGD or RMSprop made with momentum 0 is refused too:
 * tapegrad makes momentum buffers with the optimizer, so make it with
 * momentum > 0 (the schedule sets it from the start) or set
 * cycle_momentum false. Stepping past total_steps fails, as in PyTorch.
 * max_lr and total_steps have no default (tg_one_cycle_defaults takes
 * them; options are required). pct_start is in (0, 1) (PyTorch takes 0 and
 * 1, where it divides by zero or has no warmup), no phase may be empty
 * (PyTorch divides by zero there), div_factor and final_div_factor > 0. */
typedef enum tg_anneal_strategy { TG_ANNEAL_COS = 0, TG_ANNEAL_LINEAR = 1 } tg_anneal_strategy;
typedef struct tg_one_cycle_options {
    double max_lr;
    /* One max lr per group (read when the scheduler is made), or NULL for
     * max_lr in every group: PyTorch's max_lr given as a list. */
    const double *max_lrs;
    int total_steps; /* PyTorch's total_steps, or epochs * steps_per_epoch */
    double pct_start;
    tg_anneal_strategy anneal_strategy;
    bool cycle_momentum;
    double base_momentum, max_momentum, div_factor, final_div_factor;
    bool three_phase;
} tg_one_cycle_options;
/* PyTorch's defaults: pct_start 0.3, cosine, cycle_momentum, momentum
 * from 0.95 down to 0.85, div_factor 25, final_div_factor 1e4, two phases. */
TG_API tg_one_cycle_options tg_one_cycle_defaults(double max_lr, int total_steps);
TG_API tg_lr_scheduler *tg_one_cycle_lr(tg_optimizer *opt, const tg_one_cycle_options *opts);

/* ReduceLROnPlateau: multiplies every group's lr by factor (not below its
 * min_lr) when the metric given to tg_lr_scheduler_step_metric has not
 * improved for more than patience epochs, then waits cooldown epochs.
 * Improving is being below best * (1 - threshold) (TG_PLATEAU_MIN,
 * TG_THRESHOLD_REL), best - threshold (TG_THRESHOLD_ABS), or above best *
 * (1 + threshold), best + threshold (TG_PLATEAU_MAX); a change of an lr
 * smaller than eps is skipped. It sets nothing when made, and has no base
 * lrs. factor is in [0, 1) (PyTorch: "Factor should be < 1.0."), patience,
 * cooldown, threshold, min_lr and eps >= 0. */
typedef enum tg_plateau_mode { TG_PLATEAU_MIN = 0, TG_PLATEAU_MAX = 1 } tg_plateau_mode;
typedef enum tg_threshold_mode { TG_THRESHOLD_REL = 0, TG_THRESHOLD_ABS = 1 } tg_threshold_mode;
typedef struct tg_reduce_lr_on_plateau_options {
    tg_plateau_mode mode;
    double factor;
    int patience;
    double threshold;
    tg_threshold_mode threshold_mode;
    int cooldown;
    double min_lr;
    /* One min lr per group (read when the scheduler is made), or NULL for
     * min_lr in every group: PyTorch's min_lr given as a list. */
    const double *min_lrs;
    double eps;
} tg_reduce_lr_on_plateau_options;
/* PyTorch's defaults: min, factor 0.1, patience 10, threshold 1e-4 rel,
 * cooldown 0, min_lr 0, eps 1e-8. */
TG_API tg_reduce_lr_on_plateau_options tg_reduce_lr_on_plateau_defaults(void);
/* opts NULL means the defaults. */
TG_API tg_lr_scheduler *tg_reduce_lr_on_plateau(tg_optimizer *opt,
                                                const tg_reduce_lr_on_plateau_options *opts);

/* SequentialLR: the n schedulers one after another, switching to
 * schedulers[i] at epoch milestones[i - 1], where it restarts from epoch 0
 * (by PyTorch's closed form where it has one: its step(0)); as PyTorch's,
 * it first puts every group back to its initial lr and restarts
 * schedulers[0]. The n - 1 milestones must be sorted (PyTorch's bisection
 * needs it). ChainedScheduler: the n schedulers stepped together, each on
 * the lrs the one before set. The schedulers must all be of opt (Chained:
 * of one optimizer), with its groups, and neither SequentialLR,
 * ChainedScheduler nor ReduceLROnPlateau (PyTorch calls their step()
 * without an epoch or a metric, which they refuse). Both take the
 * schedulers over, also when they fail: from then on they belong to it,
 * which steps, saves, loads and frees them (tg_lr_scheduler_free of one
 * does nothing; stepping or loading one alone is refused). Make the
 * schedulers in order, before the call: each constructor sets lrs, and C
 * leaves the order in which a compound literal's initialisers run
 * unspecified. */
TG_API tg_lr_scheduler *tg_sequential_lr(tg_optimizer *opt, int n,
                                         tg_lr_scheduler *const *schedulers, int n_milestones,
                                         const int *milestones);
TG_API tg_lr_scheduler *tg_chained_scheduler(int n, tg_lr_scheduler *const *schedulers);

/* Advances one epoch and sets the groups' lrs (and momenta). Returns 0, or
 * -1 with nothing changed: when the optimizer gained groups since, a
 * OneCycleLR is past its total steps, a lambda makes a negative lr, s is a
 * ReduceLROnPlateau (which needs a metric) or belongs to a SequentialLR or
 * ChainedScheduler (which steps it). */
TG_API int tg_lr_scheduler_step(tg_lr_scheduler *s);
/* ReduceLROnPlateau's step(metrics): one epoch with this metric (any
 * number: NaN never improves), epoch counted from 0 (PyTorch's last_epoch
 * there). Other schedulers refuse a metric. */
TG_API int tg_lr_scheduler_step_metric(tg_lr_scheduler *s, double metric);
/* The current epoch (PyTorch's last_epoch): 0 after creation; a
 * ChainedScheduler's counts its own steps. -1 for NULL, and for a
 * SequentialLR's scheduler not started yet. */
TG_API int64_t tg_lr_scheduler_epoch(const tg_lr_scheduler *s);
/* Frees s (NULL-safe), and the schedulers a SequentialLR or a
 * ChainedScheduler holds. */
TG_API void tg_lr_scheduler_free(tg_lr_scheduler *s);

/* A scheduler's state in a safetensors file, named as PyTorch's
 * scheduler.state_dict() names it, float64: "scheduler.<name>" (0-dim, the
 * number of groups; "scheduler.StepLR", "scheduler.OneCycleLR", ...,
 * "scheduler.WarmupCosine"), "last_epoch" (0-dim) and "base_lrs" (G,);
 * ReduceLROnPlateau's are "best", "num_bad_epochs" and "cooldown_counter"
 * instead of base_lrs; SequentialLR and ChainedScheduler save their epoch
 * and each scheduler's state under "_schedulers.<i>.". The arguments are
 * not saved: they are what the code that makes the scheduler passes (so a
 * CosineAnnealingWarmRestarts' T_cur and T_i follow from its epoch).
 * Loading is strict (same kind and groups, the same schedulers inside,
 * nothing else, integer epochs, lrs >= 0) and all or nothing; it sets the
 * epochs and base lrs only, not the optimizer's lrs, which tg_optim_load
 * restores; but a OneCycleLR also sets the momenta of its epoch, which the
 * optimizer's file does not hold. So resume as in PyTorch: make the
 * optimizer and the scheduler as before (making it sets the lrs of epoch
 * 0), then tg_optim_load, then tg_lr_scheduler_load; the steps that follow
 * are the uninterrupted run's, bit for bit. Both return 0 or -1. */
TG_API int tg_lr_scheduler_save(const tg_lr_scheduler *s, const char *path);
TG_API int tg_lr_scheduler_load(tg_lr_scheduler *s, const char *path);

/* ---- Gradient clipping ------------------------------------------------------------
 * On the .grad of n tensors, in place (hence the trailing _, as in
 * PyTorch); tensors without a grad are skipped. */

/* clip_grad_norm_'s error_if_nonfinite: scale the grads by a NaN or
 * infinite total norm anyway (PyTorch 1.13's default), or refuse. */
typedef enum tg_nonfinite_mode {
    TG_SCALE_NONFINITE = 0,
    TG_ERROR_IF_NONFINITE = 1
} tg_nonfinite_mode;
#define TG_CLIP_GRAD_NORM_DEFAULT_NORM_TYPE 2.0

/* torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type,
 * error_if_nonfinite): total is the norm_type-norm of the grads' norms
 * (the norm of all their elements together), in the grads' dtype (float64
 * if any is); when max_norm / (total + 1e-6) is below 1 every grad is
 * scaled by it. Returns total as PyTorch does, to the last bit (its
 * kernels' order of operations, float32 in float32), or -1.0 with an
 * error: a norm is never negative, while NaN and inf are norms of
 * non-finite gradients (which then become NaN or zero, as in PyTorch,
 * unless TG_ERROR_IF_NONFINITE refuses them before any grad changes).
 * norm_type is any number, as PyTorch takes it: INFINITY is the largest
 * |g| (refusing an empty grad, as PyTorch's max() does), 0 counts the
 * non-zero elements, a negative p gives sum(|g|^p)^(1/p) (0 when an
 * element is 0), NaN gives NaN; PyTorch's kernel reads p as a float32, so
 * tapegrad does too (1e300 is the inf norm there, and 0.1 is 0.1f). A
 * negative or NaN max_norm is refused (PyTorch would flip the grads' sign,
 * or make them NaN). */
TG_API double tg_clip_grad_norm_ex_(tg_tensor *const *params, int n, double max_norm,
                                    double norm_type, tg_nonfinite_mode nonfinite);
/* The same with PyTorch's defaults: the 2-norm, non-finite totals scaled. */
TG_API double tg_clip_grad_norm_(tg_tensor *const *params, int n, double max_norm);
/* torch.nn.utils.clip_grad_value_: clamps each element to
 * [-clip_value, clip_value]. Returns 0, or -1. */
TG_API int tg_clip_grad_value_(tg_tensor *const *params, int n, double clip_value);

/* The names of tapegrad 0.1, without the trailing _; kept until 1.0. */
static inline double tg_clip_grad_norm(tg_tensor *const *params, int n, double max_norm) {
    return tg_clip_grad_norm_(params, n, max_norm);
}
static inline int tg_clip_grad_value(tg_tensor *const *params, int n, double clip_value) {
    return tg_clip_grad_value_(params, n, clip_value);
}

#ifdef __cplusplus
}
#endif
#endif
