// libpng's full API reports errors by longjmp, which Swift cannot take part in: these two
// functions hold the setjmp and give Swift a status and a message instead.
#include "CImageDecoding.h"

#include <png.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t offset;
    char *message;
    size_t message_size;
} reader_state;

static void read_bytes(png_structp png, png_bytep out, size_t count) {
    reader_state *state = (reader_state *)png_get_io_ptr(png);
    if (count > state->size - state->offset) {
        png_error(png, "the file ends early (it is truncated)");
    }
    memcpy(out, state->data + state->offset, count);
    state->offset += count;
}

static void on_error(png_structp png, png_const_charp text) {
    reader_state *state = (reader_state *)png_get_error_ptr(png);
    snprintf(state->message, state->message_size, "%s", text);
    png_longjmp(png, 1);
}

// Warnings (an sRGB profile libpng knows to be wrong, an unknown ancillary chunk) leave the
// pixels intact; damage to the pixels is an error.
static void on_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

static int begin(reader_state *state, png_structp *png, png_infop *info) {
    if (state->size < 8 || png_sig_cmp(state->data, 0, 8) != 0) {
        snprintf(state->message, state->message_size, "it does not start with the PNG signature");
        return -1;
    }
    *png = png_create_read_struct(PNG_LIBPNG_VER_STRING, state, on_error, on_warning);
    if (*png == NULL) {
        snprintf(state->message, state->message_size, "libpng could not start");
        return -1;
    }
    *info = png_create_info_struct(*png);
    if (*info == NULL) {
        png_destroy_read_struct(png, NULL, NULL);
        snprintf(state->message, state->message_size, "libpng could not start");
        return -1;
    }
    png_set_read_fn(*png, state, read_bytes);
    // The size checks are ours (the caller's pixel cap); libpng's own default limits stay.
    png_set_user_limits(*png, 0x7fffffff, 0x7fffffff);
    return 0;
}

int vae_png_read_header(const uint8_t *data, size_t size, vae_png_header *header, char *message, size_t message_size) {
    reader_state state = {data, size, 0, message, message_size};
    png_structp png = NULL;
    png_infop info = NULL;
    if (begin(&state, &png, &info) != 0) return -1;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    png_read_info(png, info);
    header->width = png_get_image_width(png, info);
    header->height = png_get_image_height(png, info);
    header->bit_depth = png_get_bit_depth(png, info);
    header->color_type = png_get_color_type(png, info);
    header->interlaced = png_get_interlace_type(png, info) != PNG_INTERLACE_NONE;
    header->has_transparency = (header->color_type & PNG_COLOR_MASK_ALPHA) != 0 || png_get_valid(png, info, PNG_INFO_tRNS) != 0;
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}

int vae_png_decode_rgba(const uint8_t *data, size_t size, uint8_t *rgba, uint32_t width, uint32_t height,
                        char *message, size_t message_size) {
    reader_state state = {data, size, 0, message, message_size};
    png_structp png = NULL;
    png_infop info = NULL;
    if (begin(&state, &png, &info) != 0) return -1;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_free(png, rows);
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    png_read_info(png, info);
    if (png_get_image_width(png, info) != width || png_get_image_height(png, info) != height) {
        png_error(png, "the header changed between reads");
    }
    int color_type = png_get_color_type(png, info);
    png_set_expand(png);  // palette to RGB, grey below 8 bits to 8, tRNS to alpha
    png_set_scale_16(png);
    if ((color_type & PNG_COLOR_MASK_COLOR) == 0) png_set_gray_to_rgb(png);
    if ((color_type & PNG_COLOR_MASK_ALPHA) == 0 && !png_get_valid(png, info, PNG_INFO_tRNS)) {
        png_set_add_alpha(png, 0xff, PNG_FILLER_AFTER);
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)width * 4) png_error(png, "unexpected row layout after the transforms");
    rows = (png_bytep *)png_malloc(png, sizeof(png_bytep) * height);
    for (uint32_t y = 0; y < height; y++) rows[y] = rgba + (size_t)y * width * 4;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_free(png, rows);
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}
