/// Small images tiled in a grid with a thin separating line between cells.
///
/// Shapes: `images` holds rows · columns images of imageHeight x imageWidth intensities in
/// [0, 1], row-major, one after another (fewer leave the last cells blank). The grid is
/// (columns · imageWidth + (columns + 1) · gap) wide and likewise high, before `scale`.
public enum ImageGrid {
    public static func make(images: [Float], imageWidth: Int, imageHeight: Int, rows: Int, columns: Int,
                            gap: Int = 1, gapLevel: UInt8 = 128, scale: Int = 1) -> GreyImage {
        let size = imageWidth * imageHeight
        precondition(size > 0 && images.count % size == 0, "\(images.count) values are not whole \(imageWidth)x\(imageHeight) images")
        precondition(images.count / size <= rows * columns, "\(images.count / size) images do not fit a \(rows)x\(columns) grid")
        let width = columns * imageWidth + (columns + 1) * gap, height = rows * imageHeight + (rows + 1) * gap
        var grid = GreyImage(width: width, height: height, filledWith: gapLevel)
        for index in 0..<(images.count / size) {
            let (row, column) = (index / columns, index % columns)
            let left = gap + column * (imageWidth + gap), top = gap + row * (imageHeight + gap)
            for y in 0..<imageHeight {
                for x in 0..<imageWidth {
                    grid[left + x, top + y] = GreyImage.level(images[index * size + y * imageWidth + x])
                }
            }
        }
        return grid.scaled(by: scale)
    }

    /// A grid of `columns` cells per row, as many rows as `cells` need; each cell an image of
    /// imageWidth x imageHeight intensities in [0, 1], or nil for a blank cell (gap level).
    public static func make(cells: [[Float]?], imageWidth: Int, imageHeight: Int, columns: Int,
                            gap: Int = 1, gapLevel: UInt8 = 128, scale: Int = 1) -> GreyImage {
        precondition(columns > 0 && !cells.isEmpty, "a grid needs cells and at least one column")
        let rows = (cells.count + columns - 1) / columns
        let width = columns * imageWidth + (columns + 1) * gap, height = rows * imageHeight + (rows + 1) * gap
        var grid = GreyImage(width: width, height: height, filledWith: gapLevel)
        for (index, cell) in cells.enumerated() {
            guard let cell else { continue }
            precondition(cell.count == imageWidth * imageHeight, "cell \(index) has \(cell.count) values, not \(imageWidth)x\(imageHeight)")
            let left = gap + (index % columns) * (imageWidth + gap), top = gap + (index / columns) * (imageHeight + gap)
            for y in 0..<imageHeight {
                for x in 0..<imageWidth { grid[left + x, top + y] = GreyImage.level(cell[y * imageWidth + x]) }
            }
        }
        return grid.scaled(by: scale)
    }
}
