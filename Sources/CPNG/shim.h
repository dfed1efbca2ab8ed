#include <png.h>
#include <zlib.h> /* crc32 for the chunks PoseImage writes itself (RunLengthDeflater PNGs) */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

/* One-pass PNG encoding with libpng's write API (png_create_write_struct …), for Swift.
 *
 * libpng reports errors by longjmp-ing out of the failing call, which must never cross Swift
 * frames; the setjmp and every libpng write call therefore live in blaze_png_encode below (C), and
 * Swift only sees its return value. The encoded stream grows in a malloc'd buffer that the caller
 * releases with free(). */

/* The output stream: `data[0..<size]` written, `capacity` allocated. */
typedef struct {
    unsigned char *data;
    size_t size;
    size_t capacity;
} blaze_png_stream;

/* The error callback's target: libpng's message, NUL-terminated. */
typedef struct {
    char message[128];
} blaze_png_error_text;

static inline void blaze_png_on_error(png_structp png, png_const_charp message) {
    blaze_png_error_text *text = (blaze_png_error_text *)png_get_error_ptr(png);
    if (text != NULL) {
        strncpy(text->message, message != NULL ? message : "libpng error", sizeof text->message - 1);
        text->message[sizeof text->message - 1] = 0;
    }
    png_longjmp(png, 1);
}

static inline void blaze_png_on_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

static inline void blaze_png_on_write(png_structp png, png_bytep bytes, size_t length) {
    blaze_png_stream *stream = (blaze_png_stream *)png_get_io_ptr(png);
    if (length > stream->capacity - stream->size) {
        size_t capacity = stream->capacity > 0 ? stream->capacity : 4096;
        while (length > capacity - stream->size) {
            if (capacity > ((size_t)-1) / 2) png_error(png, "encoded PNG too large");
            capacity *= 2;
        }
        unsigned char *grown = (unsigned char *)realloc(stream->data, capacity);
        if (grown == NULL) png_error(png, "out of memory for the encoded PNG");
        stream->data = grown;
        stream->capacity = capacity;
    }
    memcpy(stream->data + stream->size, bytes, length);
    stream->size += length;
}

static inline void blaze_png_on_flush(png_structp png) { (void)png; }

/* Encodes `height` rows of `width` 8-bit pixels with `channels` samples each (1 = gray, 3 = RGB),
 * rows `width * channels` bytes apart (HWC, no padding), non-interlaced, no ancillary chunks.
 * `level` is the zlib level (0…9), `strategy` the zlib strategy (0 default, 1 filtered,
 * 2 Huffman only, 3 RLE), `filters` a mask of PNG_FILTER_* values.
 * Returns 1 and fills `stream` on success (the caller frees stream->data, even on failure);
 * returns 0 with libpng's message in `error` otherwise. */
static inline int blaze_png_encode(const unsigned char *pixels, png_uint_32 width, png_uint_32 height,
                                   int channels, int level, int strategy, int filters,
                                   blaze_png_stream *stream, blaze_png_error_text *error) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, error, blaze_png_on_error,
                                              blaze_png_on_warning);
    if (png == NULL) {
        strncpy(error->message, "png_create_write_struct failed", sizeof error->message - 1);
        return 0;
    }
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_write_struct(&png, NULL);
        strncpy(error->message, "png_create_info_struct failed", sizeof error->message - 1);
        return 0;
    }
    /* `png` and `info` are not modified after setjmp, so they keep their values after a longjmp. */
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return 0;
    }
    png_set_write_fn(png, stream, blaze_png_on_write, blaze_png_on_flush);
    png_set_compression_level(png, level);
    png_set_compression_strategy(png, strategy);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, filters);
    png_set_IHDR(png, info, width, height, 8, channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    png_write_info(png, info);
    size_t stride = (size_t)width * (size_t)channels;
    for (png_uint_32 y = 0; y < height; y++) {
        png_write_row(png, pixels + (size_t)y * stride);
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return 1;
}
