import Foundation

/// The SAP score (Kumar, Sattigeri & Balakrishnan 2018, "Variational Inference of Disentangled
/// Latent Concepts from Unlabeled Observations"), as disentanglement_lib computes it for
/// discrete factors: for each code dimension j and factor k, the test accuracy of a linear SVM
/// (`LinearSupportVectorMachine`, C = 0.01, balanced classes) predicting k's class from z_j
/// alone; per factor, the gap between its two best dimensions; SAP their mean.
public enum SeparatedAttributePredictability {
    /// SAP and its score matrix [dimensions][factors], trained on `trainCodes`/`trainFactors`
    /// and scored on `testCodes`/`testFactors` (codes [dimensions][points], factors
    /// [factors][points]).
    public static func score(trainCodes: [[Double]], trainFactors: [[Int]], testCodes: [[Double]], testFactors: [[Int]]) -> (score: Double, matrix: [[Double]]) {
        precondition(trainCodes.count >= 2, "the gap needs two code dimensions")
        let matrix = zip(trainCodes, testCodes).map { train, test in
            zip(trainFactors, testFactors).map { trainClasses, testClasses -> Double in
                let machine = LinearSupportVectorMachine(x: train, y: trainClasses)
                let right = zip(test, testClasses).filter { machine.predict($0.0) == $0.1 }.count
                return Double(right) / Double(test.count)
            }
        }
        let gaps = trainFactors.indices.map { factor -> Double in
            let sorted = matrix.map { $0[factor] }.sorted(by: >)
            return sorted[0] - sorted[1]
        }
        return (gaps.reduce(0, +) / Double(gaps.count), matrix)
    }
}
