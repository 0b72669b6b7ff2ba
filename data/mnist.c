/* data/mnist.c - MNIST-format data sets (MNIST, Fashion-MNIST, KMNIST):
 * a split's two IDX files, images and labels, read as a training loop
 * wants them.
 *
 * The images become float32 pixel / 255, as torchvision's ToTensor makes
 * them, divided in place so that a split is in memory once (60000 images
 * are 188 MB as float32). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "internal/tensor.h"
#include "tapegrad/data.h"
#include "tapegrad/ops.h"
#include "tapegrad/shape.h"

/* dir/name.gz if it exists, else dir/name; false with an error when
 * neither does. */
static bool split_file(char *path, size_t size, const char *dir, const char *name) {
    snprintf(path, size, "%s/%s.gz", dir, name);
    if (access(path, F_OK) == 0) return true;
    snprintf(path, size, "%s/%s", dir, name);
    if (access(path, F_OK) == 0) return true;
    tg__error(TG_ERR_IO, "mnist_load: cannot open %s/%s.gz (nor %s): %s", dir, name, name,
              strerror(errno));
    return false;
}

int tg_mnist_load(const char *dir, tg_mnist_split split, tg_tensor **images, tg_tensor **labels) {
    if (images) *images = NULL;
    if (labels) *labels = NULL;
    if (!dir || !images || !labels) {
        tg__null_arg("mnist_load");
        return -1;
    }
    if (split != TG_MNIST_TRAIN && split != TG_MNIST_TEST) {
        tg__error(TG_ERR_VALUE, "mnist_load: split must be TG_MNIST_TRAIN or TG_MNIST_TEST, not %d",
                  (int)split);
        return -1;
    }
    const char *prefix = split == TG_MNIST_TRAIN ? "train" : "t10k";
    char image_name[64], label_name[64], image_path[4096], label_path[4096];
    snprintf(image_name, sizeof image_name, "%s-images-idx3-ubyte", prefix);
    snprintf(label_name, sizeof label_name, "%s-labels-idx1-ubyte", prefix);
    if (!split_file(image_path, sizeof image_path, dir, image_name) ||
        !split_file(label_path, sizeof label_path, dir, label_name))
        return -1;

    tg_pool *pool = tg_pool_push();
    tg_tensor *pixels = tg_idx_load(image_path, TG_F32), *y = NULL, *x = NULL;
    if (pixels && tg_ndim(pixels) != 3)
        tg__error(TG_ERR_SHAPE, "mnist_load: %s: %d dims; images have 3 (count, rows, columns)",
                  image_path, tg_ndim(pixels));
    else if (pixels)
        y = tg_idx_load(label_path, TG_I64);
    if (y && tg_ndim(y) != 1)
        tg__error(TG_ERR_SHAPE, "mnist_load: %s: %d dims; labels have 1", label_path, tg_ndim(y));
    else if (y && tg_size(y, 0) != tg_size(pixels, 0))
        tg__error(TG_ERR_SHAPE, "mnist_load: %s has %lld images but %s has %lld labels", image_path,
                  (long long)tg_size(pixels, 0), label_path, (long long)tg_size(y, 0));
    else if (y && tg_div_scalar_(pixels, 255) == 0)
        x = tg_reshape(pixels,
                       TG_SHAPE(tg_size(pixels, 0), tg_size(pixels, 1) * tg_size(pixels, 2)));
    if (x) {
        *images = tg_retain(x);
        *labels = tg_retain(y);
    }
    tg_pool_pop(pool);
    if (!x) return -1;
    /* Handed to the caller's pool, if any; when adding to it fails (out of
     * memory) the tensor is released, and the other must not outlive it. */
    if (!(*images = tg__autorelease(*images))) {
        tg_release(*labels);
        *labels = NULL;
        return -1;
    }
    if (!(*labels = tg__autorelease(*labels))) {
        *images = NULL; /* its pool releases it */
        return -1;
    }
    return 0;
}
