import CCairo
import Foundation

/// A picture of rows (a traversal grid) with a text label left of each row, drawn with cairo
/// (DejaVu Sans): the picture's pixels unchanged, a white margin as wide as the longest label.
public struct RowLabelledPicture: Sendable {
    /// The grid.
    public let picture: Picture
    /// One label per row, top first.
    public let labels: [String]
    /// Each label's height (the middle of its row), in pixels from the top.
    public let rowCentres: [Double]
    /// The font size in pixels.
    public let fontSize: Double

    /// `picture` with `labels[r]` left of row r, centred at `rowCentres[r]` (default: the picture
    /// cut into equal rows).
    public init(picture: Picture, labels: [String], rowCentres: [Double]? = nil, fontSize: Double = 12) {
        precondition(!labels.isEmpty && (rowCentres == nil || rowCentres!.count == labels.count), "one centre per label")
        let rowHeight = Double(picture.height) / Double(labels.count)
        (self.picture, self.labels, self.fontSize) = (picture, labels, fontSize)
        self.rowCentres = rowCentres ?? labels.indices.map { (Double($0) + 0.5) * rowHeight }
    }

    /// The labelled picture as PNG bytes.
    public func pngData() throws(PictureError) -> Data {
        // Measure the labels on a scratch surface.
        let scratch = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1)!
        defer { cairo_surface_destroy(scratch) }
        let measure = cairo_create(scratch)!
        cairo_select_font_face(measure, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(measure, fontSize)
        var widest = 0.0
        for label in labels {
            var extents = cairo_text_extents_t()
            cairo_text_extents(measure, label, &extents)
            widest = max(widest, extents.x_advance)
        }
        cairo_destroy(measure)
        let margin = Int(widest.rounded(.up)) + 12
        let (width, height) = (margin + picture.width, picture.height)
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width), Int32(height)) else {
            throw .encodingFailed(reason: "cairo could not create a surface")
        }
        defer { cairo_surface_destroy(surface) }
        let cr = cairo_create(surface)!
        cairo_set_source_rgb(cr, 1, 1, 1)
        cairo_paint(cr)
        cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cr, fontSize)
        cairo_set_source_rgb(cr, 0, 0, 0)
        for (label, centre) in zip(labels, rowCentres) {
            showText(cr, label, x: Double(margin) - 6, y: centre, alignX: 1, alignY: 0.5)
        }
        cairo_destroy(cr)
        // The grid's pixels, copied in (RGB24 keeps each pixel as 0x00RRGGBB).
        cairo_surface_flush(surface)
        let stride = Int(cairo_image_surface_get_stride(surface))
        let base = cairo_image_surface_get_data(surface)!
        for y in 0..<picture.height {
            let row = (base + y * stride).withMemoryRebound(to: UInt32.self, capacity: width) { $0 }
            for x in 0..<picture.width {
                let offset = (y * picture.width + x) * picture.channels
                let (r, g, b) = picture.channels == 1
                    ? (picture.pixels[offset], picture.pixels[offset], picture.pixels[offset])
                    : (picture.pixels[offset], picture.pixels[offset + 1], picture.pixels[offset + 2])
                row[margin + x] = UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b)
            }
        }
        cairo_surface_mark_dirty(surface)
        return try StreamCollector.collect { collector in
            cairo_surface_write_to_png_stream(surface, StreamCollector.write, collector)
        }
    }
}
