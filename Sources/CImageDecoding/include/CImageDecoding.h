#ifndef CIMAGEDECODING_H
#define CIMAGEDECODING_H

#include <stddef.h>
#include <stdint.h>

/// What a PNG file's header declares (IHDR), read without decoding its pixels.
typedef struct {
    uint32_t width;
    uint32_t height;
    int bit_depth;      // 1, 2, 4, 8 or 16
    int color_type;     // PNG_COLOR_TYPE_*: 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA
    int interlaced;     // 1 for Adam7
    int has_transparency;  // an alpha channel or a tRNS chunk
} vae_png_header;

/// Reads a PNG's signature and chunks up to the first IDAT. Returns 0 on success; otherwise
/// writes libpng's message (or ours) to `message` and returns -1.
int vae_png_read_header(const uint8_t *data, size_t size, vae_png_header *header, char *message, size_t message_size);

/// Decodes a whole PNG to 8-bit RGBA, non-premultiplied, as the file stores its levels: no gamma
/// or colour-profile conversion, 16-bit samples scaled to 8 bits by rounding (v * 255 / 65535),
/// palette and low bit depths expanded, grey copied to R, G and B, tRNS to alpha, Adam7
/// interlacing undone. `rgba` must hold width * height * 4 bytes of the header's size. Damage
/// anywhere (a truncated file, a bad CRC, too little image data) is an error: returns -1 with
/// the reason in `message`.
int vae_png_decode_rgba(const uint8_t *data, size_t size, uint8_t *rgba, uint32_t width, uint32_t height,
                        char *message, size_t message_size);

#endif
