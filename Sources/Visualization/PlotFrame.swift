import CCairo
import Foundation

/// The frame every plot shares: a white page, a title, a boxed plot area with light grid lines
/// at "nice" ticks (see `Axis`), tick labels and axis labels. It maps data coordinates to the
/// page: x grows to the right, y upwards.
struct PlotFrame {
    let left, right, top, bottom: Double
    let xTicks, yTicks: [Double]

    /// Draws the frame for data spanning `xRange` and `yRange` on a `width` x `height` page,
    /// leaving `legendWidth` points free on the right; `integerX`: whole-number ticks on x.
    static func draw(_ cr: OpaquePointer, width: Double, height: Double, title: String, xLabel: String, yLabel: String,
                     xRange: ClosedRange<Double>, yRange: ClosedRange<Double>, legendWidth: Double = 0, integerX: Bool = false) -> PlotFrame {
        cairo_set_source_rgb(cr, 1, 1, 1)
        cairo_rectangle(cr, 0, 0, width, height)
        cairo_fill(cr)
        cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
        let frame = PlotFrame(
            left: 70, right: width - 20 - legendWidth, top: 40, bottom: height - 50,
            xTicks: Axis.ticks(low: xRange.lowerBound, high: xRange.upperBound, integers: integerX),
            yTicks: Axis.ticks(low: yRange.lowerBound, high: yRange.upperBound))
        let (left, right, top, bottom) = (frame.left, frame.right, frame.top, frame.bottom)

        cairo_set_font_size(cr, 11)
        cairo_set_line_width(cr, 1)
        for tick in frame.yTicks {
            let y = frame.y(tick).rounded() + 0.5
            cairo_set_source_rgb(cr, 0.9, 0.9, 0.9)
            cairo_move_to(cr, left, y); cairo_line_to(cr, right, y); cairo_stroke(cr)
            cairo_set_source_rgb(cr, 0.2, 0.2, 0.2)
            showText(cr, Axis.label(tick, step: frame.yTicks[1] - frame.yTicks[0]), x: left - 6, y: frame.y(tick), alignX: 1, alignY: 0.5)
        }
        for tick in frame.xTicks {
            let x = frame.x(tick).rounded() + 0.5
            cairo_set_source_rgb(cr, 0.9, 0.9, 0.9)
            cairo_move_to(cr, x, top); cairo_line_to(cr, x, bottom); cairo_stroke(cr)
            cairo_set_source_rgb(cr, 0.2, 0.2, 0.2)
            showText(cr, Axis.label(tick, step: frame.xTicks[1] - frame.xTicks[0]), x: frame.x(tick), y: bottom + 6, alignX: 0.5, alignY: 0)
        }
        cairo_set_source_rgb(cr, 0, 0, 0)
        cairo_rectangle(cr, left + 0.5, top + 0.5, right - left, bottom - top)
        cairo_stroke(cr)
        cairo_set_font_size(cr, 12)
        showText(cr, xLabel, x: (left + right) / 2, y: height - 8, alignX: 0.5, alignY: 1)
        cairo_save(cr)
        cairo_translate(cr, 16, (top + bottom) / 2)
        cairo_rotate(cr, -Double.pi / 2)
        showText(cr, yLabel, x: 0, y: 0, alignX: 0.5, alignY: 0.5)
        cairo_restore(cr)
        showFittedText(cr, title, x: width / 2, y: 12, maximumWidth: width - 16, size: 14)
        return frame
    }

    func x(_ value: Double) -> Double {
        let (low, high) = (xTicks.first!, xTicks.last!)
        return left + (value - low) / max(high - low, 1e-12) * (right - left)
    }

    func y(_ value: Double) -> Double {
        let (low, high) = (yTicks.first!, yTicks.last!)
        return bottom - (value - low) / max(high - low, 1e-12) * (bottom - top)
    }

    /// Restricts drawing to the plot area until `cairo_restore`.
    func clip(_ cr: OpaquePointer) {
        cairo_save(cr)
        cairo_rectangle(cr, left, top, right - left, bottom - top)
        cairo_clip(cr)
    }
}

extension ClosedRange<Double> {
    /// The smallest range holding the finite values (0...1 when there are none).
    static func covering(_ values: some Sequence<Double>) -> ClosedRange<Double> {
        var (low, high) = (Double.infinity, -Double.infinity)
        for value in values where value.isFinite { (low, high) = (Swift.min(low, value), Swift.max(high, value)) }
        return low <= high ? low...high : 0...1
    }
}
